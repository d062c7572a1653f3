"""Policy: every number the recommender uses, with profiles and per-namespace/per-workload overrides.

A policy is resolved for each workload from, in order: the base defaults, the named
profile (``savings``, ``balanced``, ``reliability``), the file's global ``policy:``, the
namespace's entry, then the workload's entry; later ones win key by key.  Every layer is
validated on load, so a typo or an impossible value is reported with its path in the file
and the range allowed, before any query is sent.

``rightsizer.yaml``::

    profile: balanced          # savings | balanced | reliability
    qos: burstable             # burstable (no CPU limit, memory limit = request) | guaranteed
    policy:                    # overrides of the profile, any key of Policy
      cpu: {percentile: 95, margin: 0.1}
    namespaces:
      payments: {profile: reliability}
    workloads:
      shop/checkout:           # namespace/name or namespace/Kind/name
        policy: {memory: {margin: 0.3}}
    exclude:                   # workloads ``patch`` and ``pr`` leave alone (shell wildcards)
      - payments/ledger
      - batch/CronJob/*
"""

from __future__ import annotations

import copy
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from ruamel.yaml.error import YAMLError

from rightsizer.errors import RightsizerError
from rightsizer.history import WorkloadKey
from rightsizer.units import GiB, MiB
from rightsizer.yamlsafety import safe_documents


class _Strict(BaseModel):
    # inf and nan pass a gt/le bound check in neither direction; refuse them by name
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class CpuPolicy(_Strict):
    percentile: float = Field(95.0, gt=0, le=100, description="percentile of CPU usage samples")
    margin: float = Field(0.10, ge=0, le=5, description="added to the percentile, relative")
    min_cores: float = Field(0.010, ge=0, le=64, description="floor of a request, cores")
    granularity: float = Field(0.005, ge=0.001, le=1, description="requests are rounded up to this, cores "
                                                                "(1m at least: Kubernetes' own resolution)")
    throttled_step: float = Field(0.05, gt=0, le=1, description="a step with this share of throttled periods "
                                                                "saw censored usage")
    throttled_share: float = Field(0.01, gt=0, le=1, description="share of censored steps that makes a "
                                                                 "container throttled")
    throttled_demand: float = Field(2.0, ge=1, le=10, description="a throttled period is taken to have wanted "
                                                                  "this many times its quota")
    limit_factor: float = Field(1.0, ge=1, le=10, description="guaranteed QoS: limit = request x this")


class MemoryPolicy(_Strict):
    basis: Literal["peak", "daily-peaks"] = Field("peak", description="the window's peak, or a percentile of "
                                                                     "daily peaks")
    daily_percentile: float = Field(90.0, gt=0, le=100, description="percentile of daily peaks (basis "
                                                                    "daily-peaks)")
    margin: float = Field(0.10, ge=0, le=5, description="added to the basis, relative")
    variability: float = Field(3.0, ge=0, le=20, description="the margin is at least this many times the "
                                                             "day-to-day variation of daily peaks (rules: a bursty "
                                                             "series' only up to the log-normal bound at `risk`, "
                                                             "never under twice `margin`; learned: a steady "
                                                             "series' floor)")
    margins: Literal["learned", "rules"] = Field("learned", description="headroom learned from the cluster's "
                                                                        "weekly backtests, or the rules alone")
    risk: float = Field(0.15, gt=0, lt=0.5, description="the share of containers whose next week's peak may "
                                                        "pass the limit (learned: calibrated on the window)")
    leak_growth: float = Field(0.5, ge=0, le=20, description="a leak's peak at the next run is sized for when at "
                                                            "most this much above the value; beyond, it is flagged")
    min_bytes: float = Field(64 * MiB, ge=0, le=1024 * GiB, description="floor of a request, bytes")
    granularity: float = Field(MiB, ge=1, le=GiB, description="rounded up to this, bytes")
    oom_bump: float = Field(0.20, ge=0, le=5, description="after an OOMKill: above the limit hit by this ratio")
    oom_bump_min: float = Field(100 * MiB, ge=0, le=1024 * GiB, description="...and by at least this many bytes")


class TrendPolicy(_Strict):
    enabled: bool = True
    horizon_days: float = Field(7.0, ge=0, le=90, description="project usage this far ahead (the next run)")
    min_days: float = Field(5.0, ge=2, le=90, description="days of daily peaks needed to fit a trend")
    min_growth: float = Field(0.05, ge=0, le=10, description="projected growth over the horizon below which "
                                                             "the trend is ignored, relative")
    recent_days: float = Field(7.0, ge=1, le=30, description="a shrinking trend never goes below the peak "
                                                             "of these last days")


class NodePolicy(_Strict):
    heap_share: float = Field(0.75, gt=0, le=1, description="--max-old-space-size as a share of the memory "
                                                            "limit")
    young_generation: float = Field(48 * MiB, ge=0, le=64 * GiB, description="bytes kept for V8's young generation "
                                                                "(3 x semi-space)")
    nonheap_percentile: float = Field(99.0, gt=0, le=100, description="percentile of RSS minus heap total, over "
                                                                     "each pod's hourly peaks")
    heap_percentile: float = Field(99.0, gt=0, le=100, description="percentile of heap used, over each pod's "
                                                                  "hourly peaks")
    heap_headroom: float = Field(0.10, ge=0, le=5, description="old space above the observed heap, relative")


class HpaPolicy(_Strict):
    keep_scaling_point: bool = True
    min_target: float = Field(20.0, gt=0, le=1000, description="lowest target utilization proposed, percent")
    max_target: float = Field(95.0, gt=0, le=1000, description="highest target utilization proposed, percent")

    @model_validator(mode="after")
    def _ordered(self) -> HpaPolicy:
        if self.min_target > self.max_target:
            raise ValueError(f"min_target {self.min_target:g} is above max_target {self.max_target:g}")
        return self


class Policy(_Strict):
    """Every number one workload's recommendation uses."""

    qos: Literal["burstable", "guaranteed"] = "burstable"
    cpu: CpuPolicy = CpuPolicy()
    memory: MemoryPolicy = MemoryPolicy()
    trend: TrendPolicy = TrendPolicy()
    nodejs: NodePolicy = NodePolicy()
    hpa: HpaPolicy = HpaPolicy()
    min_history_hours: float = Field(24.0, ge=0, le=24 * 90, description="no recommendation below this history")
    gone_after_hours: float = Field(24.0, gt=0, le=24 * 90, description="a container or workload not seen for "
                                                                        "this long is dropped (CronJobs excepted)")
    full_confidence_days: float = Field(7.0, gt=0, le=90, description="history at which confidence reaches 1")
    change_threshold: float = Field(0.10, ge=0, le=1, description="smaller relative changes are not proposed")


#: the quality-of-service classes a policy can aim at
QOS = ("burstable", "guaranteed")

PROFILES: dict[str, dict[str, Any]] = {
    "savings": {"cpu": {"percentile": 90, "margin": 0.05},
                "memory": {"basis": "daily-peaks", "daily_percentile": 90, "margin": 0.10}},
    "balanced": {},
    "reliability": {"cpu": {"percentile": 99, "margin": 0.20}, "memory": {"basis": "peak", "margin": 0.25},
                    "change_threshold": 0.05},
}


class _Layer(_Strict):
    profile: Literal["savings", "balanced", "reliability"] | None = None
    qos: Literal["burstable", "guaranteed"] | None = None
    policy: dict[str, Any] = Field(default_factory=dict)


class _File(_Layer):
    namespaces: dict[str, _Layer] = Field(default_factory=dict)
    workloads: dict[str, _Layer] = Field(default_factory=dict)
    exclude: list[str] = Field(default_factory=list)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _validate(data: dict[str, Any], where: str) -> Policy:
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise RightsizerError(_explain(exc, where)) from None


def _explain(exc: ValidationError, where: str) -> str:
    problems = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"])
        path = f"{where}.{path}" if where and path else (where or path)
        message = err["msg"].replace("Input should be", "must be").replace("Extra inputs are not permitted",
                                                                           "unknown key")
        got = err.get("input")
        shown = "" if err["type"] == "extra_forbidden" or isinstance(got, dict) else f" (got {got!r})"
        problems.append(f"{path}: {message}{shown}")
    return "invalid policy: " + "; ".join(problems)


class PolicySet:
    """Resolves the policy of each workload from the profile, the file and the overrides."""

    def __init__(self, profile: str = "balanced", qos: str | None = None, overrides: dict[str, Any] | None = None,
                 namespaces: dict[str, _Layer] | None = None, workloads: dict[str, _Layer] | None = None,
                 source: str = "defaults", exclude: list[str] | None = None):
        if profile not in PROFILES:
            raise RightsizerError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
        self.profile = profile
        self.qos = qos
        self.overrides = overrides or {}
        self.namespaces = namespaces or {}
        self.workloads = workloads or {}
        self.source = source
        self.exclude = list(exclude or [])
        for pattern in self.exclude:
            if pattern.count("/") not in (1, 2) or not all(pattern.split("/")):
                raise RightsizerError(f"invalid policy: exclude: {pattern!r}: use namespace/name or "
                                      "namespace/Kind/name (shell wildcards allowed, e.g. batch/CronJob/*)")
        self.default = self._build(profile, qos, [(self.overrides, "policy")])
        for ns, layer in self.namespaces.items():
            self._layered(WorkloadKey(ns, "", ""), check_only=(f"namespaces.{ns}", layer))
        for name, layer in self.workloads.items():
            if name.count("/") not in (1, 2) or not all(name.split("/")):
                raise RightsizerError(f"invalid policy: workloads.{name}: use namespace/name or namespace/Kind/name")
            self._layered(WorkloadKey(name.split("/")[0], "", ""), check_only=(f"workloads.{name}", layer))

    def _build(self, profile: str, qos: str | None, layers: list[tuple[dict[str, Any], str]]) -> Policy:
        data = _merge({}, PROFILES[profile])
        if qos:
            data["qos"] = qos
        for layer, where in layers:
            data = _merge(data, layer)
            _validate(data, where)
        return _validate(data, "")

    def _layered(self, key: WorkloadKey, check_only: tuple[str, _Layer] | None = None) -> Policy:
        chain: list[tuple[str, _Layer]] = []
        if check_only is not None:
            chain.append(check_only)
        else:
            if key.namespace in self.namespaces:
                chain.append((f"namespaces.{key.namespace}", self.namespaces[key.namespace]))
            for name in (f"{key.namespace}/{key.name}", f"{key.namespace}/{key.kind}/{key.name}"):
                if name in self.workloads:
                    chain.append((f"workloads.{name}", self.workloads[name]))
        profile, qos = self.profile, self.qos
        layers: list[tuple[dict[str, Any], str]] = [(self.overrides, "policy")]
        for where, layer in chain:
            profile = layer.profile or profile
            qos = layer.qos or qos
            layers.append((layer.policy, f"{where}.policy"))
        return self._build(profile, qos, layers)

    def for_workload(self, key: WorkloadKey) -> Policy:
        return _cached(self, key)

    def excluded(self, key: WorkloadKey) -> str | None:
        """The ``exclude:`` pattern that opts this workload out of ``patch`` and ``pr``, if one does."""
        for pattern in self.exclude:
            parts = pattern.split("/")
            wanted = (key.namespace, key.name) if len(parts) == 2 else (key.namespace, key.kind, key.name)
            if all(fnmatchcase(value, part) for value, part in zip(wanted, parts, strict=True)):
                return pattern
        return None

    @classmethod
    def load(cls, path: str | Path | None = None, *, profile: str | None = None, qos: str | None = None,
             overrides: dict[str, Any] | None = None) -> PolicySet:
        """The policy from ``rightsizer.yaml`` (if given), with CLI flags (``overrides``) winning over the file."""
        if path is None:
            return cls(profile or "balanced", qos, overrides)
        data = _read_yaml(Path(path))
        try:
            parsed = _File.model_validate(data)
            return cls(profile or parsed.profile or "balanced", qos or parsed.qos,
                       _merge(parsed.policy, overrides or {}), parsed.namespaces, parsed.workloads, source=str(path),
                       exclude=parsed.exclude)
        except ValidationError as exc:
            raise RightsizerError(f"{path}: {_explain(exc, '')}") from None
        except RightsizerError as exc:
            raise RightsizerError(f"{path}: {exc}") from None


@lru_cache(maxsize=4096)
def _cached(policies: PolicySet, key: WorkloadKey) -> Policy:
    return policies._layered(key)


#: Larger inputs are refused: a policy file is a page, not a data set.
MAX_CONFIG_BYTES = 1_000_000


def _read_yaml(path: Path) -> dict[str, Any]:
    """The settings mapping of a policy file, through the one YAML loader with limits (size, depth, aliases)."""
    if not path.is_file():
        raise RightsizerError(f"config file {path} does not exist")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise RightsizerError(f"config file {path} is larger than {MAX_CONFIG_BYTES // 1000} kB")
    try:
        docs = safe_documents(path.read_text(encoding="utf-8"), str(path))
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RightsizerError(f"{path}{where}: not valid YAML ({problem})") from None
    except UnicodeDecodeError:
        raise RightsizerError(f"{path} is not UTF-8 text") from None
    except RecursionError:
        raise RightsizerError(f"{path}: nested too deeply to read: refused") from None
    if len(docs) > 1:
        raise RightsizerError(f"{path} holds {len(docs)} YAML documents: a policy file is one mapping of settings")
    data = docs[0] if docs else None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RightsizerError(f"{path}: expected a mapping of settings at the top, got {type(data).__name__}")
    return data
