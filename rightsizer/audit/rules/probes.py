"""Probes: readiness and liveness on every serving container, a startup probe where starting is slow."""

from __future__ import annotations

from collections.abc import Iterator

from rightsizer.audit.model import Finding
from rightsizer.audit.registry import ContainerRule, Context
from rightsizer.audit.views import ContainerView, WorkloadView

#: workloads whose pods serve until stopped (a Job's or CronJob's run to completion: no probes expected)
SERVING = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Rollout")
#: a new pod whose memory takes this long to reach its usual level is still starting
SLOW_START = 600.0


class _ProbeRule(ContainerRule):
    init = False  # an init container runs to completion: probes do not apply

    def serving(self, workload: WorkloadView, container: ContainerView) -> bool:
        return workload.kind in SERVING and not container.init


class ReadinessProbeMissing(_ProbeRule):
    name = "readiness-probe-missing"
    severity = "warning"
    summary = "A serving container without a readiness probe"
    why = ("Without a readiness probe a pod receives traffic as soon as its process starts, before it can "
           "answer, and keeps receiving it while it cannot: errors at every rollout and every stall.")

    def check_container(self, workload: WorkloadView, container: ContainerView, ctx: Context) -> Iterator[Finding]:
        if self.serving(workload, container) and not container.spec.get("readinessProbe"):
            yield ctx.finding(self, workload, container.place, "no readiness probe", container=container,
                              evidence=["readinessProbe is not set"],
                              fix="add a readinessProbe on the endpoint that says the service can answer")


class LivenessProbeMissing(_ProbeRule):
    name = "liveness-probe-missing"
    severity = "info"
    summary = "A serving container without a liveness probe"
    why = ("A process that hangs without exiting is never restarted without a liveness probe; keep it cheap and "
           "independent of dependencies, or it restarts healthy pods.")

    def check_container(self, workload: WorkloadView, container: ContainerView, ctx: Context) -> Iterator[Finding]:
        if self.serving(workload, container) and not container.spec.get("livenessProbe"):
            yield ctx.finding(self, workload, container.place, "no liveness probe", container=container,
                              evidence=["livenessProbe is not set"],
                              fix="add a livenessProbe that fails only when the process must be restarted")


class StartupProbeMissing(_ProbeRule):
    name = "startup-probe-missing"
    severity = "warning"
    summary = "A slow-starting container without a startup probe (needs a source)"
    why = ("A liveness probe that runs while the service is still starting kills it before it is up: restarts "
           "at every rollout. A startup probe holds the liveness probe back until the start is done.")

    def check_container(self, workload: WorkloadView, container: ContainerView, ctx: Context) -> Iterator[Finding]:
        e = container.evidence
        if not self.serving(workload, container) or e is None or container.spec.get("startupProbe"):
            return
        evidence = []
        if e.start_restarts:
            evidence.append(f"{e.start_restarts} restarts within the first minutes of a pod")
        if e.start_ramp is not None and e.start_ramp >= SLOW_START:
            evidence.append(f"a new pod takes {e.start_ramp / 60:.0f} minutes to reach its usual memory (median "
                            "of the pods started in the window)")
        if e.start_burst is not None and e.start_burst >= SLOW_START:
            evidence.append(f"a new pod runs above twice its usual CPU for {e.start_burst / 60:.0f} minutes (median "
                            "of the pods started in the window)")
        if not evidence:
            return
        liveness = container.spec.get("livenessProbe")
        evidence.append("startupProbe is not set" + ("; a livenessProbe is" if liveness else ""))
        yield ctx.finding(self, workload, container.place, "slow start without a startup probe", container=container,
                          evidence=evidence, severity=None if liveness or e.start_restarts else "info",
                          fix="add a startupProbe (failureThreshold x periodSeconds covering the start) so the "
                              "liveness probe waits for it")
