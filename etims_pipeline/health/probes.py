"""One probe per dependency of the pipeline; each answers a `Check` or raises.

A probe does one small round trip and nothing else: `readiness` runs them in threads with a hard timeout,
so a probe itself never has to be careful about hanging. Exceptions are left to `readiness`, which turns
them into a fixed, credential-free message; a probe only builds its own message when the dependency
answered but is not well (a daemon without a recent heartbeat).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from sqlalchemy import Engine, text

# A daemon loop writes its heartbeat at most every 30 s, and only when it yields; the scheduler yields once a
# minute (it sleeps to the next minute boundary), so a healthy scheduler's heartbeat reaches 60 s and a bit
# more under load (seen at 62 s in the runbook e2e test). 150 s is two missed minute-beats plus a slow
# iteration's slack: a dead or stuck daemon shows within 2.5 minutes, a healthy one never fails readiness.
DEFAULT_DAEMON_MAX_AGE = 150.0


@dataclass(frozen=True)
class Check:
    """The state of one dependency: `details` are shown beside `ok`; `error` is safe to show (no secrets)."""

    ok: bool
    details: Mapping[str, object] = field(default_factory=dict)
    error: str | None = None

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {"ok": self.ok, **self.details}
        if self.error is not None:
            body["error"] = self.error
        return body


Probe = Callable[[], Check]


def database_probe(engine: Engine, statement_timeout: float) -> Probe:
    """`SELECT 1` on the operational database, with a server-side statement timeout on PostgreSQL."""

    def probe() -> Check:
        started = time.perf_counter()
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                # LOCAL: only for this probe's transaction, never for the pooled connection afterwards.
                timeout_ms = max(1, round(statement_timeout * 1000))
                connection.execute(text(f"SET LOCAL statement_timeout = {timeout_ms}"))
            connection.execute(text("SELECT 1"))
        return Check(True, {"latency_ms": round((time.perf_counter() - started) * 1000, 1)})

    return probe


def dagster_storage_probe(instance: DagsterInstance) -> Probe:
    """The instance's event log answers (run storage is exercised by the run-queue and daemon probes)."""

    def probe() -> Check:
        instance.event_log_storage.get_maximum_record_id()
        return Check(True)

    return probe


def run_queue_probe(instance: DagsterInstance) -> Probe:
    """Depth of Dagster's run queue: runs the daemon has not started yet (the old Celery list length)."""

    def probe() -> Check:
        depth = instance.get_runs_count(RunsFilter(statuses=[DagsterRunStatus.QUEUED]))
        return Check(True, {"queue_depth": depth})

    return probe


def daemon_probe(
    instance: DagsterInstance, max_age: float = DEFAULT_DAEMON_MAX_AGE, now: Callable[[], float] = time.time
) -> Probe:
    """Every daemon this instance requires (scheduler, sensors, backfills, run queue, ...) beat recently."""

    def probe() -> Check:
        beats = instance.get_daemon_heartbeats()
        current = now()
        heartbeats: dict[str, object] = {}
        stale: list[str] = []
        for daemon_type in sorted(instance.get_required_daemon_types()):
            beat = beats.get(daemon_type)
            age = None if beat is None else round(max(0.0, current - beat.timestamp), 1)
            heartbeats[daemon_type] = {"age_seconds": age, "errors": len(beat.errors or []) if beat else 0}
            if age is None or age > max_age:
                stale.append(daemon_type)
        if stale:
            error = f"no heartbeat within {max_age:g}s from {', '.join(stale)}; is exactly one dagster-daemon running?"
            return Check(False, {"heartbeats": heartbeats}, error)
        return Check(True, {"heartbeats": heartbeats})

    return probe


def default_probes(
    engine: Engine, instance: DagsterInstance, timeout: float, daemon_max_age: float
) -> dict[str, Probe]:
    """The four dependencies of `/readyz`, by the names its answer uses."""
    return {
        "database": database_probe(engine, statement_timeout=timeout),
        "dagster_storage": dagster_storage_probe(instance),
        "run_queue": run_queue_probe(instance),
        "daemon": daemon_probe(instance, daemon_max_age),
    }
