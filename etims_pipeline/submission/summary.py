"""Condense a run's report into the figures the UI shows: counts, reasons, held orgs, latency."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from statistics import quantiles

from etims_pipeline.nairobi_time import partition_key
from etims_pipeline.store.models import InvoiceStatus
from etims_pipeline.submission.results import SubmissionReport


def percentile(values: list[float], pct: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return quantiles(values, n=100, method="inclusive")[pct - 1]


@dataclass(frozen=True)
class RunSummary:
    invoices_touched: int
    by_status: dict[str, int]
    rejections_by_reason: dict[str, int]  # every reason an invoice did not get accepted this run
    held_orgs: dict[int, int]  # org id → invoices held by the guard
    blocked_orgs: dict[int, str]  # org id → code, for orgs blocked before any call (guard, device, check)
    halted_orgs: dict[int, str]
    failed_orgs: dict[int, str]
    skipped_claimed: int
    by_day: dict[str, dict[str, int]]
    save_calls: int
    latency_p50: float | None
    latency_p95: float | None


def transitions(before: dict[int, str], report: SubmissionReport) -> dict[str, int]:
    """What this run changed, e.g. {"held→accepted": 5}: the invoices it settled, from their status before it."""
    moves = Counter(
        f"{before[inv.invoice_id]}→{inv.status}"
        for inv in report.invoices
        if inv.invoice_id in before and before[inv.invoice_id] != inv.status
    )
    return dict(sorted(moves.items()))


def summarize(report: SubmissionReport) -> RunSummary:
    invoices = report.invoices
    latencies = [lat for inv in invoices for lat in inv.save_latencies]
    by_day: dict[str, Counter[str]] = {}
    for inv in invoices:
        by_day.setdefault(partition_key(inv.issue_date), Counter())[inv.status] += 1
    return RunSummary(
        invoices_touched=len(invoices),
        by_status=dict(Counter(inv.status for inv in invoices)),
        rejections_by_reason=dict(
            Counter(inv.reason or "unknown" for inv in invoices if inv.status != InvoiceStatus.ACCEPTED)
        ),
        held_orgs=dict(Counter(inv.org_id for inv in invoices if inv.status == InvoiceStatus.HELD)),
        blocked_orgs={org.org_id: org.blocked_code for org in report.orgs if org.blocked_code},
        halted_orgs={org.org_id: org.halted_reason for org in report.orgs if org.halted_reason},
        failed_orgs={org.org_id: org.error for org in report.orgs if org.error},
        skipped_claimed=sum(org.skipped_claimed for org in report.orgs),
        by_day={day: dict(counts) for day, counts in sorted(by_day.items())},
        save_calls=len(latencies),
        latency_p50=percentile(latencies, 50),
        latency_p95=percentile(latencies, 95),
    )
