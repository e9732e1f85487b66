"""Prometheus metrics derived from the append-only attempt log (`submission_attempts`).

Dagster runs are separate processes, so no in-process counter survives them. Every scrape therefore
counts the attempt log instead: rows are only ever appended, so the counters are monotonic across
restarts and runs, and every process that scrapes the same database shows the same numbers. Rows older
than yesterday are counted through sealed rollups (`observability.rollups`), so a scrape's cost follows
the recent rows, not the age of the log.

Exposition names (prometheus_client appends `_total` to counter samples; the family keeps the bare name):

- `invoices_submitted_total{status="accepted"|"rejected"}`
- `invoices_rejected_total{reason="feature_disabled"|"org_not_verified"|"org_check_failed"|"invalid_invoice"}`
- `etims_latency_bucket{status,le}`, `etims_latency_sum{status}`, `etims_latency_count{status}` (seconds)
- `kpi_jobs_success_total{org_id}`, `kpi_jobs_fail_total{org_id}` (from `kpi_job_outcomes`, one row per org per KPI run)

`metric_events` is the one mapping from an attempt to the metrics it moves. The collector applies it to
each group of identical attempts and the structured metrics log (`observability.logging`) to each attempt
as it happens, so the logs and the scrape cannot disagree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, func, select

from etims_pipeline.observability.rollups import attempt_groups, seal_or_log, sealed_before
from etims_pipeline.store.kpi_models import KpiJobOutcome
from etims_pipeline.store.metric_models import LATENCY_BUCKETS
from etims_pipeline.store.models import AttemptKind, AttemptOutcome

INVOICES_SUBMITTED = "invoices_submitted"
INVOICES_REJECTED = "invoices_rejected"
ETIMS_LATENCY = "etims_latency"
KPI_JOBS_SUCCESS = "kpi_jobs_success"
KPI_JOBS_FAIL = "kpi_jobs_fail"

# The reasons the runbook promises; each is exposed, at zero until it first happens.
RUNBOOK_REJECTION_REASONS = ("feature_disabled", "org_not_verified", "org_check_failed")

# A lookup that finds the invoice after a timeout is the acceptance of that submission.
_ACCEPTED_OUTCOMES = frozenset({AttemptOutcome.ACCEPTED, AttemptOutcome.FOUND})
_STOPPED_BEFORE_ETIMS = frozenset({AttemptKind.BLOCKED, AttemptKind.VALIDATION})
_UNKNOWN_REASON = "unknown"


@dataclass(frozen=True)
class MetricEvent:
    """One increment of a counter, or one observation (`value` in seconds) of the latency histogram."""

    metric: str
    labels: dict[str, str] = field(hash=False)
    value: float


def metric_events(
    kind: str, outcome: str, reason: str | None, latency_seconds: float | None, reached_etims: bool
) -> list[MetricEvent]:
    """The metrics one attempt moves: the single rule shared by the scrape and the metrics log."""
    events: list[MetricEvent] = []
    if outcome in _ACCEPTED_OUTCOMES:
        events.append(MetricEvent(INVOICES_SUBMITTED, {"status": "accepted"}, 1))
    elif kind == AttemptKind.SAVE and outcome == AttemptOutcome.REJECTED:
        events.append(MetricEvent(INVOICES_SUBMITTED, {"status": "rejected"}, 1))
    if kind in _STOPPED_BEFORE_ETIMS:
        events.append(MetricEvent(INVOICES_REJECTED, {"reason": reason or _UNKNOWN_REASON}, 1))
    if reached_etims and latency_seconds is not None:
        events.append(MetricEvent(ETIMS_LATENCY, {"status": outcome}, latency_seconds))
    return events


class _CounterSpec(NamedTuple):
    documentation: str
    label: str
    always_exposed: tuple[str, ...]


_COUNTERS = {
    INVOICES_SUBMITTED: _CounterSpec(
        "Invoices eTIMS accepted (saved, or found by a lookup) or refused.",
        "status",
        ("accepted", "rejected"),
    ),
    INVOICES_REJECTED: _CounterSpec(
        "Submissions stopped before any eTIMS call: feature flag, org guard, local validation.",
        "reason",
        RUNBOOK_REJECTION_REASONS,
    ),
}


@dataclass
class _LatencyTally:
    cumulative: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS))
    count: int = 0
    total: float = 0.0


def attempt_log_metrics(connection: Connection) -> list[Metric]:
    """The submission counters and the latency histogram, from the log's aggregates per attempt group."""
    counts: Counter[tuple[str, str]] = Counter()
    latencies: dict[str, _LatencyTally] = {}
    for row in connection.execute(attempt_groups(sealed_before(connection))):
        kind, outcome, reason, reached_etims, attempts, observed, latency_sum, *buckets = row
        # metric_events says which series the group moves; the group's aggregates say by how much.
        group_latency = latency_sum if observed else None
        for event in metric_events(kind, outcome, reason, group_latency, reached_etims):
            if event.metric == ETIMS_LATENCY:
                tally = latencies.setdefault(event.labels["status"], _LatencyTally())
                tally.cumulative = [have + add for have, add in zip(tally.cumulative, buckets, strict=True)]
                tally.count += observed
                tally.total += latency_sum
            else:
                counts[event.metric, event.labels[_COUNTERS[event.metric].label]] += attempts * event.value

    families: list[Metric] = []
    for name, spec in _COUNTERS.items():
        counter = CounterMetricFamily(name, spec.documentation, labels=[spec.label])
        seen = {value for metric, value in counts if metric == name}
        for value in sorted(seen.union(spec.always_exposed)):
            counter.add_metric([value], counts[name, value])
        families.append(counter)

    histogram = HistogramMetricFamily(
        ETIMS_LATENCY, "Seconds from request to eTIMS answer, by attempt outcome.", labels=["status"]
    )
    for status, tally in sorted(latencies.items()):
        bucket_counts = [(str(b), n) for b, n in zip(LATENCY_BUCKETS, tally.cumulative, strict=True)]
        histogram.add_metric([status], [*bucket_counts, ("+Inf", tally.count)], sum_value=tally.total)
    families.append(histogram)
    return families


def kpi_job_metrics(connection: Connection) -> list[Metric]:
    """`kpi_jobs_success{org_id}` / `kpi_jobs_fail{org_id}`, from one GROUP BY over the append-only outcomes."""
    statement = select(KpiJobOutcome.org_id, KpiJobOutcome.succeeded, func.count()).group_by(
        KpiJobOutcome.org_id, KpiJobOutcome.succeeded
    )
    success = CounterMetricFamily(KPI_JOBS_SUCCESS, "Orgs whose KPIs a KPI run wrote.", labels=["org_id"])
    fail = CounterMetricFamily(KPI_JOBS_FAIL, "Orgs whose KPI write failed in a KPI run.", labels=["org_id"])
    for org_id, succeeded, outcomes in connection.execute(statement.order_by(KpiJobOutcome.org_id)):
        (success if succeeded else fail).add_metric([str(org_id)], outcomes)
    return [success, fail]


# A source reads one part of the operational store.
MetricSource = Callable[[Connection], Iterable[Metric]]
METRIC_SOURCES: tuple[MetricSource, ...] = (attempt_log_metrics, kpi_job_metrics)


class AttemptLogCollector(Collector):
    """Collects every metric source over one connection per scrape."""

    def __init__(self, engine: Engine, sources: Sequence[MetricSource] = METRIC_SOURCES) -> None:
        self._engine = engine
        self._sources = tuple(sources)

    def collect(self) -> Iterable[Metric]:
        with self._engine.connect() as connection:
            return [family for source in self._sources for family in source(connection)]


def build_registry(engine: Engine) -> CollectorRegistry:
    """A registry of its own (not the process-global one) holding the attempt-log collector."""
    registry = CollectorRegistry()
    registry.register(AttemptLogCollector(engine))
    return registry


def render_metrics(engine: Engine) -> bytes:
    """The Prometheus text exposition of the database behind `engine`, sealing closed days first."""
    seal_or_log(engine)
    return generate_latest(build_registry(engine))
