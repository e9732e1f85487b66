"""Run summaries: counts by status, reasons, held orgs, per-day grouping and latency percentiles."""

from __future__ import annotations

from datetime import date

import pytest

from etims_pipeline.submission.results import InvoiceResult, OrgResult, SubmissionReport
from etims_pipeline.submission.summary import percentile, summarize

DAY1 = date(2026, 11, 23)
DAY2 = date(2026, 11, 24)


@pytest.mark.parametrize("pct", [50, 95])
def test_percentile_of_nothing_is_none(pct: int) -> None:
    assert percentile([], pct) is None


@pytest.mark.parametrize("pct", [1, 50, 95, 99])
def test_percentile_of_one_value_is_that_value(pct: int) -> None:
    assert percentile([0.42], pct) == 0.42


@pytest.mark.parametrize(
    ("values", "pct", "expected"),
    [
        ([1.0, 3.0], 50, 2.0),
        ([1.0, 3.0], 95, 2.9),
        ([5.0, 1.0, 3.0, 2.0, 4.0], 50, 3.0),  # order does not matter
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([float(v) for v in range(1, 101)], 50, 50.5),
        ([float(v) for v in range(1, 101)], 95, 95.05),
        ([float(v) for v in range(1, 101)], 99, 99.01),
        ([2.0, 2.0, 2.0], 95, 2.0),
    ],
)
def test_percentile_interpolates_inclusively(values: list[float], pct: int, expected: float) -> None:
    assert percentile(values, pct) == pytest.approx(expected)


def test_percentile_is_monotonic_and_bounded() -> None:
    values = [0.3, 0.1, 2.5, 0.7, 0.2, 9.0, 0.4]
    p50, p95 = percentile(values, 50), percentile(values, 95)
    assert p50 is not None
    assert p95 is not None
    assert min(values) <= p50 <= p95 <= max(values)


def inv(
    invoice_id: int,
    org_id: int,
    status: str,
    *,
    day: date = DAY1,
    reason: str | None = None,
    latencies: tuple[float, ...] = (),
) -> InvoiceResult:
    return InvoiceResult(
        invoice_id=invoice_id, org_id=org_id, issue_date=day, status=status, reason=reason, save_latencies=latencies
    )


def report() -> SubmissionReport:
    return SubmissionReport(
        first_day=DAY1,
        last_day=DAY2,
        run_id="run-1",
        orgs=[
            OrgResult(
                org_id=1,
                invoices=[
                    inv(1, 1, "accepted", latencies=(0.2,)),
                    inv(2, 1, "accepted", day=DAY2, latencies=(0.4, 0.6)),
                    inv(3, 1, "rejected", reason="request_parameter_error", latencies=(0.1,)),
                    inv(4, 1, "invalid", day=DAY2, reason="INVOICE_BAD_TAX_BAND"),
                    inv(5, 1, "pending", reason="server_communication_error", latencies=(1.0,)),
                ],
                skipped_claimed=2,
            ),
            OrgResult(
                org_id=2,
                invoices=[
                    inv(6, 2, "held", reason="org_not_verified"),
                    inv(7, 2, "held", day=DAY2, reason="org_not_verified"),
                ],
                blocked_code="ORG_NOT_VERIFIED",
                blocked_message="ORG_NOT_VERIFIED: org 2 cannot submit",
            ),
            OrgResult(org_id=3, invoices=[inv(8, 3, "unknown")], halted_reason="etims_unavailable", skipped_claimed=1),
            OrgResult(org_id=4, error="RuntimeError"),
        ],
    )


def test_summarize_counts_by_status() -> None:
    summary = summarize(report())
    assert summary.invoices_touched == 8
    assert summary.by_status == {"accepted": 2, "rejected": 1, "invalid": 1, "pending": 1, "held": 2, "unknown": 1}
    assert sum(summary.by_status.values()) == summary.invoices_touched


def test_summarize_counts_every_non_accepted_reason() -> None:
    summary = summarize(report())
    assert summary.rejections_by_reason == {
        "request_parameter_error": 1,
        "INVOICE_BAD_TAX_BAND": 1,
        "server_communication_error": 1,
        "org_not_verified": 2,
        "unknown": 1,  # an invoice without a reason
    }


def test_summarize_lists_held_blocked_halted_and_failed_orgs() -> None:
    summary = summarize(report())
    assert summary.held_orgs == {2: 2}
    assert summary.blocked_orgs == {2: "ORG_NOT_VERIFIED"}
    assert summary.halted_orgs == {3: "etims_unavailable"}
    assert summary.failed_orgs == {4: "RuntimeError"}
    assert summary.skipped_claimed == 3


def test_summarize_groups_by_nairobi_day_in_order() -> None:
    summary = summarize(report())
    assert list(summary.by_day) == ["2026-11-23", "2026-11-24"]
    assert summary.by_day == {
        "2026-11-23": {"accepted": 1, "rejected": 1, "pending": 1, "held": 1, "unknown": 1},
        "2026-11-24": {"accepted": 1, "invalid": 1, "held": 1},
    }


def test_summarize_latency_over_every_save_call() -> None:
    summary = summarize(report())
    assert summary.save_calls == 5
    assert summary.latency_p50 == pytest.approx(0.4)
    assert summary.latency_p95 == pytest.approx(0.92)  # between 0.6 and 1.0: 0.6 + 0.8 * 0.4


def test_summarize_an_empty_run() -> None:
    summary = summarize(SubmissionReport(first_day=DAY1, last_day=DAY1, run_id="empty", feature_disabled=True))
    assert summary.invoices_touched == 0
    assert summary.by_status == {}
    assert summary.rejections_by_reason == {}
    assert summary.held_orgs == {}
    assert summary.by_day == {}
    assert summary.save_calls == 0
    assert summary.latency_p50 is None
    assert summary.latency_p95 is None
