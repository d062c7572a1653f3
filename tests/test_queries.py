from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rightsizer.errors import RightsizerError
from rightsizer.sources import queries as q
from rightsizer.sources.client import PrometheusClient

label_values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(st.lists(label_values, min_size=1, max_size=5), label_values)
def test_regex_alternation_matches_exactly_its_values(values, other):
    pattern = re.compile(_unquote(q.regex_alternation(values)), re.DOTALL)
    for value in values:
        assert pattern.fullmatch(value)
    if other not in values:
        assert not pattern.fullmatch(other)


def _unquote(literal: str) -> str:
    """The inverse of quote() for the escapes it emits (the real check is against Prometheus below)."""
    assert literal[0] == literal[-1] == '"'
    return re.sub(r'\\(["\\nr])', lambda m: {"n": "\n", "r": "\r"}.get(m[1], m[1]), literal[1:-1])


def test_matchers_render_single_and_many_namespaces():
    assert q.Matchers(("shop",)).render() == 'namespace="shop"'
    assert q.Matchers(("b", "a")).render('x="1"') == 'namespace=~"a|b", x="1"'
    assert q.Matchers(("ns",), ("p.1",)).render() == 'namespace="ns", pod=~"p\\\\.1"'


def test_usage_queries_leave_out_the_pod_cgroup_and_pause_container():
    m = q.Matchers(("shop",))
    for query in (q.cpu_usage(m, 300), q.memory_peak(m, 300), q.throttled_ratio(m, 300)):
        assert 'container!=""' in query and 'container!="POD"' in query
        assert "max by" not in query, "duplicate series are merged as they are placed, not on the server"
    assert "max_over_time(container_memory_working_set_bytes" in q.memory_peak(m, 300)


@pytest.mark.parametrize(
    ("selector", "matchers"),
    [
        ("app=web", ['label_app="web"']),
        ("app==web,tier!=db", ['label_app="web"', 'label_tier!="db"']),
        ("env in (prod, staging)", ['label_env=~"prod|staging"']),
        ("env notin (dev)", ['label_env!~"dev"']),
        ("app.kubernetes.io/name", ['label_app_kubernetes_io_name!=""']),
        ("!canary", ['label_canary=""']),
    ],
)
def test_selectors(selector, matchers):
    assert q.selector_matchers(selector) == matchers


@pytest.mark.parametrize("bad", ["", "app=web=x", "app in prod", "a b"])
def test_bad_selectors(bad):
    with pytest.raises(RightsizerError, match="selector"):
        q.selector_matchers(bad)


@pytest.mark.prometheus
@settings(max_examples=60, deadline=None)
@given(value=label_values, other=label_values)
def test_quoted_values_round_trip_through_prometheus(prometheus, value, other):
    """Whatever a label value holds, the query means exactly that value: checked by PromQL's own parser."""
    client = PrometheusClient(prometheus.settings())

    def set_v(text: str) -> str:
        # label_replace's replacement is a template ($1...): $$ is a literal dollar there
        return f'label_replace(vector(1), "v", {q.quote(text.replace("$", "$$"))}, "", "")'

    query = f'label_replace({set_v(value)}, "hit", "yes", "v", {q.regex_alternation([value])})'
    [(v, hit, _)] = client.instant_rows(query, prometheus.end, ("v", "hit"))
    assert v == value
    assert hit == "yes"
    if other != value:
        miss = f'label_replace({set_v(other)}, "hit", "yes", "v", {q.regex_alternation([value])})'
        [(_, hit, _)] = client.instant_rows(miss, prometheus.end, ("v", "hit"))
        assert hit == "", "no hit label"
