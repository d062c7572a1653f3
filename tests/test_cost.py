"""Prices, allocation, packing and spot readiness, against hand-computed cases and the demo cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rightsizer.api import load_history
from rightsizer.cost.allocation import CPU_UNIT, GB_PER_GIB, RAM_UNIT, cluster_rates, cpu_share, node_rates
from rightsizer.cost.catalog import BUCKET_RATES, InstanceType, load_catalog
from rightsizer.cost.estimate import cost_document, estimate_cost
from rightsizer.cost.packing import Overhead, Pod, allocatable, cheapest, pack
from rightsizer.cost.spot import assess
from rightsizer.errors import RightsizerError
from rightsizer.history import Hpa, Node, Resources, WorkloadKey
from rightsizer.recommend import recommend
from rightsizer.units import HOURS_PER_MONTH, GiB

M5X = InstanceType("aws", "us-east-1", "m5.xlarge", 4, 16, "x86_64", 0.192, 0.0653, 4)
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "gitops-repo"


def test_the_bundled_catalog_covers_three_regions_and_is_dated():
    catalog = load_catalog()
    assert set(catalog.regions()) >= {"us-east-1", "us-west-2", "eu-west-1"}
    families = {i.name.split(".")[0] for i in catalog.in_region("eu-west-1")}
    assert families >= {"m5", "m6i", "m7g", "c5", "c6i", "r5", "r6i", "t3"}
    assert "snapshot 2026-11-01" in catalog.describe() and "days old" in catalog.describe()
    m5 = catalog.get("us-east-1", "m5.large")
    assert (m5.vcpu, m5.memory_gib, m5.on_demand_hourly, m5.interruption_bucket) == (2, 8, 0.096, 3)
    assert m5.spot_hourly == pytest.approx(0.096 * 0.34, abs=1e-4)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("aws,us-east-1,x.large,two,8,x86_64,0.1,,50,1", "row 1, column 'vcpu': 'two' is not a number"),
        ("aws,us-east-1,x.large,2,8,x86_64,0,,50,1", "row 1, column 'on_demand_hourly': must be above zero"),
        ("aws,us-east-1,x.large,2,8,x86_64,0.1,,50,7", "row 1, column 'interruption_bucket'"),
        ("aws,us-east-1,,2,8,x86_64,0.1,,50,1", "row 1: column 'instance_type' is missing"),
        ("aws,us-east-1,x.large,2,8,x86_64,0.1,,150,1", "column 'spot_savings_pct'"),
    ],
)
def test_a_malformed_catalog_names_row_and_column(tmp_path, line, message):
    path = tmp_path / "catalog.csv"
    path.write_text("# snapshot: 2026-01-01\nprovider,region,instance_type,vcpu,memory_gib,arch,on_demand_hourly,"
                    f"spot_hourly,spot_savings_pct,interruption_bucket\n{line}\n")
    with pytest.raises(RightsizerError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_catalog(path)


def test_a_json_catalog_and_spot_from_savings(tmp_path):
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"snapshot": "2026-10-01", "source": "our contract prices", "instances": [
        {"provider": "aws", "region": "eu-central-1", "instance_type": "m5.xlarge", "vcpu": 4, "memory_gib": 16,
         "on_demand_hourly": 0.2, "spot_savings_pct": 60, "interruption_bucket": 1}]}))
    catalog = load_catalog(path)
    assert catalog.get("eu-central-1", "m5.xlarge").spot_hourly == pytest.approx(0.08)
    assert "our contract prices" in catalog.describe()


def test_allocation_splits_a_node_by_the_opencost_ratio():
    share = cpu_share(M5X)
    expected = 4 * CPU_UNIT / (4 * CPU_UNIT + 16 * GB_PER_GIB * RAM_UNIT)
    assert share == pytest.approx(expected)
    rates = node_rates(M5X)
    # the node's price comes back whole from its vCPUs and GiB
    assert rates.cpu_hourly * 4 + rates.memory_hourly * 16 == pytest.approx(0.192)
    assert rates.cpu_hourly == pytest.approx(0.192 * share / 4)
    spot = node_rates(M5X, spot=True)
    assert spot.cpu_hourly * 4 + spot.memory_hourly * 16 == pytest.approx(0.0653)


def test_cluster_rates_blend_the_nodes_and_fall_back_to_a_flag():
    catalog = load_catalog()
    nodes = [Node("a", "m5.xlarge", "on-demand"), Node("b", "m5.xlarge", "spot")]
    blended = cluster_rates(catalog, "us-east-1", nodes)
    od, sp = node_rates(M5X), node_rates(M5X, spot=True)
    assert blended.cpu_hourly == pytest.approx((od.cpu_hourly + sp.cpu_hourly) / 2)
    assert "node types unknown" in cluster_rates(catalog, "us-east-1", [Node("x")], "c5.xlarge").basis
    with pytest.raises(RightsizerError, match="not in the catalog"):
        cluster_rates(catalog, "us-east-1", [], "z9.huge")


def test_packing_a_hand_computed_case():
    cap_cpu = allocatable(M5X, Overhead(), 1.0)[0]
    # three pods of 1.5 cores: two fit a node's ~3.9 allocatable cores, the third opens a second node
    plan = pack([Pod(f"p{i}", 1.5, 1 * GiB) for i in range(3)], M5X, Overhead(), 1.0)
    assert cap_cpu == pytest.approx(4 - 0.06 - 0.04)
    assert plan.nodes == 2 and sorted(len(a) for a in plan.assignment) == [1, 2]
    assert plan.monthly == pytest.approx(2 * 0.192 * HOURS_PER_MONTH)
    assert pack([Pod("huge", 5, GiB)], M5X, Overhead(), 1.0) is None, "the largest pod must fit a node"
    daemons = Overhead(daemonset_cpu=1.0, daemonset_memory=2 * GiB)
    assert allocatable(M5X, daemons, 0.8)[0] == pytest.approx((cap_cpu - 1.0) * 0.8)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0.01, 3.5), st.floats(0.05, 12)), min_size=1, max_size=60))
def test_packing_never_overfills_a_node_nor_leaves_a_pod_out(sizes):
    pods = [Pod(f"p{i}", cpu, mem * GiB) for i, (cpu, mem) in enumerate(sizes)]
    plan = pack(pods, M5X, Overhead(), 1.0)
    cap_cpu, cap_mem = allocatable(M5X, Overhead(), 1.0)
    assert plan is not None
    placed = [name for node in plan.assignment for name in node]
    assert sorted(placed) == sorted(p.name for p in pods), "every pod placed exactly once"
    by_name = {p.name: p for p in pods}
    for node in plan.assignment:
        assert sum(by_name[n].cpu for n in node) <= cap_cpu + 1e-6
        assert sum(by_name[n].memory for n in node) <= cap_mem + 1
    assert plan.nodes >= max(sum(p.cpu for p in pods) / cap_cpu, sum(p.memory for p in pods) / cap_mem) - 1e-9


def test_cheapest_pool_and_spot_interruptions():
    catalog = load_catalog()
    pods = [Pod(f"p{i}", 0.5, 2 * GiB) for i in range(10)]
    candidates = [c for c in catalog.in_region("us-east-1") if c.arch == "x86_64"]
    on_demand = cheapest(pods, candidates, Overhead(), 0.8)
    spot = cheapest(pods, candidates, Overhead(), 0.8, spot=True)
    assert spot.monthly < on_demand.monthly
    for c in candidates:
        plan = pack(pods, c, Overhead(), 0.8)
        assert plan is None or plan.monthly >= on_demand.monthly - 1e-9, "no cheaper pool was missed"
    assert spot.interruptions_per_month == pytest.approx(spot.nodes * BUCKET_RATES[spot.instance.interruption_bucket])


def test_spot_readiness_checks():
    key = WorkloadKey("shop", "Deployment", "web")
    manifest = {"kind": "Deployment", "metadata": {"name": "web"},
                "spec": {"template": {"metadata": {"labels": {"app": "web"}},
                                      "spec": {"volumes": [{"name": "cache", "emptyDir": {}}]}}}}
    blocked = assess(key, 3, None, manifest, [])
    assert not blocked.ready and [c.name for c in blocked.failed()] == ["local storage"]
    manifest["spec"]["template"]["spec"]["volumes"] = [{"name": "tmp", "emptyDir": {"medium": "Memory"}}]
    pdb = {"metadata": {"name": "web"}, "spec": {"minAvailable": 3, "selector": {"matchLabels": {"app": "web"}}}}
    strict = assess(key, 3, None, manifest, [pdb])
    assert [c.name for c in strict.failed()] == ["disruption budget"]
    pdb["spec"] = {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}}
    assert assess(key, 3, Hpa("web", 2, 6), manifest, [pdb]).ready
    assert [c.name for c in assess(key, 3, Hpa("web", 1, 6), manifest, [pdb]).failed()] == ["HPA minimum"]
    single = assess(key, 1.0, None, None, [])
    assert not single.ready and [c.status for c in single.checks if c.name == "local storage"] == ["unknown"]
    manifest["metadata"]["annotations"] = {"rightsizer.io/spot-ready": "true"}
    assert assess(key, 1.0, None, manifest, []).ready, "the team's annotation wins"
    assert not assess(WorkloadKey("db", "StatefulSet", "pg"), 3, None, None, []).ready


def test_the_demo_estimate_adds_up():
    history = load_history(demo=True)
    recs = recommend(history)
    report = estimate_cost(history, recs, repo=FIXTURE)
    doc = cost_document(report)
    workloads = doc["workloads"]
    assert doc["totals"]["current_monthly"] == pytest.approx(sum(w["current_monthly"] for w in workloads), abs=0.1)
    assert doc["totals"]["current_monthly"] == pytest.approx(sum(n["current_monthly"] for n in doc["namespaces"]),
                                                             abs=0.1)
    assert doc["totals"]["savings_monthly"] == pytest.approx(
        doc["totals"]["current_monthly"] - doc["totals"]["recommended_monthly"], abs=0.02)
    plans = doc["plans"]
    assert plans["recommended_on_demand"]["monthly"] < plans["current_on_demand"]["monthly"]
    assert plans["recommended_spot_mix"]["monthly"] < plans["recommended_on_demand"]["monthly"]
    assert plans["recommended_spot_mix"]["interruptions_per_month"] > 0
    assert any(p["capacity"] == "spot" for p in plans["recommended_spot_mix"]["pools"])
    pods = sum(p["pods"] for p in plans["recommended_spot_mix"]["pools"])
    assert pods == sum(p["pods"] for p in plans["recommended_on_demand"]["pools"]), "the same pods, split"
    ledger = next(w for w in workloads if w["workload"] == "ledger-db")
    assert not ledger["spot"]["ready"], "a StatefulSet stays on-demand"
    by_key = {(r.key.workload, r.key.container): r for r in recs}
    storefront = by_key[("storefront", "app")]
    assert storefront.cost is None, "prices are attached by the report, not by recommend()"
    assert estimate_cost(history, recs, repo=FIXTURE).plans["current_on_demand"].monthly == \
        report.plans["current_on_demand"].monthly, "stable for the same data"


def test_init_containers_are_billed_on_the_pods_effective_request():
    from rightsizer.cost.estimate import attach_costs, container_monthly, workload_replicas

    history = load_history(demo=True)
    recs = recommend(history)
    rates = cluster_rates(load_catalog(), "us-east-1", list(history.nodes.values()))
    attach_costs(recs, history, rates)
    init = [r for r in recs if r.init]
    assert init
    for r in init:
        members = [m for m in recs if m.key.workload_key == r.key.workload_key]
        n = workload_replicas(history)[r.key.workload_key][0]
        for which, pick in ((0, lambda m: m.current_requests), (1, lambda m: m.requests or m.current_requests)):
            app = [pick(m) for m in members if not m.init]
            inits = [pick(m) for m in members if m.init]
            # what the scheduler reserves: per resource, the larger of the largest init and the app sum
            effective = Resources(max(sum(a.cpu or 0 for a in app), max(i.cpu or 0 for i in inits)),
                                  max(sum(a.memory or 0 for a in app), max(i.memory or 0 for i in inits)))
            total = sum(m.cost[which] for m in members)
            assert total == pytest.approx(container_monthly(effective, n, rates)), f"{r.key}: adds up"
    assert any(r.cost[1] > 0 for r in init), "an init container bigger than its pod's app containers costs"
    assert all(r.cost[0] > 0 for r in recs if not r.init and r.current_requests.cpu)
