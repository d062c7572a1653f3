from __future__ import annotations

import pytest

from rightsizer.config import PolicySet
from rightsizer.errors import RightsizerError
from rightsizer.history import WorkloadKey


def write(tmp_path, text: str):
    path = tmp_path / "rightsizer.yaml"
    path.write_text(text)
    return path


def test_defaults_are_the_balanced_burstable_profile():
    p = PolicySet().default
    assert (p.qos, p.cpu.percentile, p.memory.basis, p.change_threshold) == ("burstable", 95, "peak", 0.10)


def test_layers_apply_in_order(tmp_path):
    path = write(tmp_path, """
profile: savings
policy:
  cpu: {margin: 0.2}
namespaces:
  payments: {profile: reliability}
  shop:
    policy: {memory: {margin: 0.3}}
workloads:
  shop/checkout:
    qos: guaranteed
    policy: {memory: {margin: 0.4}}
  shop/CronJob/report:
    policy: {min_history_hours: 2}
""")
    ps = PolicySet.load(path)
    other = ps.for_workload(WorkloadKey("batch", "Deployment", "x"))
    assert (other.cpu.percentile, other.cpu.margin, other.memory.basis) == (90, 0.2, "daily-peaks")
    pay = ps.for_workload(WorkloadKey("payments", "Deployment", "x"))
    assert (pay.cpu.percentile, pay.cpu.margin) == (99, 0.2), "the file's global policy still applies"
    assert ps.for_workload(WorkloadKey("shop", "Deployment", "cart")).memory.margin == 0.3
    checkout = ps.for_workload(WorkloadKey("shop", "Deployment", "checkout"))
    assert (checkout.memory.margin, checkout.qos) == (0.4, "guaranteed")
    assert ps.for_workload(WorkloadKey("shop", "CronJob", "report")).min_history_hours == 2
    assert ps.for_workload(WorkloadKey("shop", "Deployment", "report")).min_history_hours == 24


def test_flags_win_over_the_file(tmp_path):
    path = write(tmp_path, "profile: savings\nqos: guaranteed\npolicy: {change_threshold: 0.3}\n")
    ps = PolicySet.load(path, profile="reliability", qos="burstable", overrides={"change_threshold": 0.02})
    assert (ps.default.cpu.percentile, ps.default.qos, ps.default.change_threshold) == (99, "burstable", 0.02)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("policy: {cpu: {percentile: 120}}", "policy.cpu.percentile: must be less than or equal to 100 (got 120)"),
        ("policy: {cpu: {margin: -0.1}}", "policy.cpu.margin: must be greater than or equal to 0 (got -0.1)"),
        ("policy: {nodejs: {heap_share: 1.5}}", "policy.nodejs.heap_share: must be less than or equal to 1"),
        ("policy: {cpu: {percentil: 90}}", "policy.cpu.percentil: unknown key"),
        ("polcy: {}", "polcy: unknown key"),
        ("profile: frugal", "profile: must be 'savings', 'balanced' or 'reliability'"),
        ("qos: besteffort", "qos: must be 'burstable' or 'guaranteed'"),
        ("namespaces: {shop: {policy: {memory: {basis: max}}}}", "namespaces.shop.policy.memory.basis"),
        ("workloads: {checkout: {qos: guaranteed}}", "workloads.checkout: use namespace/name"),
        ("policy: {hpa: {min_target: 90, max_target: 50}}", "min_target 90 is above max_target 50"),
        ("policy: {memory: {margin: lots}}", "policy.memory.margin: must be a valid number"),
    ],
)
def test_bad_policies_name_the_key_and_the_range(tmp_path, text, message):
    with pytest.raises(RightsizerError) as err:
        PolicySet.load(write(tmp_path, text))
    assert message in str(err.value)
    assert "rightsizer.yaml" in str(err.value)


def test_bad_files(tmp_path):
    with pytest.raises(RightsizerError, match="does not exist"):
        PolicySet.load(tmp_path / "missing.yaml")
    with pytest.raises(RightsizerError, match="line 2: not valid YAML"):
        PolicySet.load(write(tmp_path, "profile: savings\n  qos: [\n"))
    with pytest.raises(RightsizerError, match="expected a mapping"):
        PolicySet.load(write(tmp_path, "- a\n- b\n"))
    with pytest.raises(RightsizerError, match="not valid YAML"):
        PolicySet.load(write(tmp_path, "profile: !!python/object:os.system echo\n"))
    assert PolicySet.load(write(tmp_path, "")).default == PolicySet().default


def test_unknown_profile_from_code():
    with pytest.raises(RightsizerError, match="unknown profile"):
        PolicySet("cheap")


def test_yaml_bombs_are_refused(tmp_path):
    laughs = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 7):
        laughs.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]")
    with pytest.raises(RightsizerError, match="aliases are expanded"):
        PolicySet.load(write(tmp_path, "\n".join(laughs) + "\n"))
    deep = "policy:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(80)) + "  " * 81 + "v: 1\n"
    with pytest.raises(RightsizerError, match="nested deeper"):
        PolicySet.load(write(tmp_path, deep))


def test_exclude_opts_workloads_out_by_pattern(tmp_path):
    ps = PolicySet.load(write(tmp_path, """
exclude:
  - payments/ledger-db
  - batch/CronJob/*
  - shop-*/Deployment/cart
"""))
    assert ps.excluded(WorkloadKey("payments", "StatefulSet", "ledger-db")) == "payments/ledger-db"
    assert ps.excluded(WorkloadKey("payments", "Deployment", "ledger-db")) == "payments/ledger-db", "any kind"
    assert ps.excluded(WorkloadKey("batch", "CronJob", "nightly-etl")) == "batch/CronJob/*"
    assert ps.excluded(WorkloadKey("batch", "Deployment", "nightly-etl")) is None, "the kind must match"
    assert ps.excluded(WorkloadKey("shop-staging", "Deployment", "cart")) == "shop-*/Deployment/cart"
    assert ps.excluded(WorkloadKey("shop", "Deployment", "cart")) is None
    assert ps.excluded(WorkloadKey("payments", "StatefulSet", "ledger-db-2")) is None, "a whole-name match"
    assert PolicySet().excluded(WorkloadKey("payments", "StatefulSet", "ledger-db")) is None


@pytest.mark.parametrize("pattern", ["ledger-db", "a/b/c/d", "payments/", "/x"])
def test_an_exclude_pattern_without_a_namespace_is_refused(tmp_path, pattern):
    with pytest.raises(RightsizerError, match=r"exclude: .*use namespace/name or namespace/Kind/name"):
        PolicySet.load(write(tmp_path, f"exclude: [{pattern!r}]\n"))
