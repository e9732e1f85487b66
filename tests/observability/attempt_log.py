"""Rows for the attempt log, and a scrape read back as samples: shared by the metrics and rollup tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import count

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from etims_pipeline.nairobi_time import now_utc
from etims_pipeline.observability.metrics import build_registry, render_metrics
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.models import (
    AttemptKind,
    AttemptOutcome,
    Invoice,
    SubmissionAttempt,
    TaxStatus,
    VendorOrg,
)

ORG_ID = 42
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def save(outcome: AttemptOutcome, latency: float | None = None) -> SubmissionAttempt:
    return SubmissionAttempt(
        kind=AttemptKind.SAVE, outcome=outcome, latency_seconds=latency, reached_etims=latency is not None
    )


def lookup(outcome: AttemptOutcome, latency: float) -> SubmissionAttempt:
    return SubmissionAttempt(kind=AttemptKind.LOOKUP, outcome=outcome, latency_seconds=latency, reached_etims=True)


def blocked(reason: str) -> SubmissionAttempt:
    return SubmissionAttempt(kind=AttemptKind.BLOCKED, outcome=AttemptOutcome.BLOCKED, reason=reason)


def invalid(result_code: str) -> SubmissionAttempt:
    return SubmissionAttempt(
        kind=AttemptKind.VALIDATION,
        outcome=AttemptOutcome.INVALID,
        reason="invalid_invoice",
        result_code=result_code,
    )


_invoice_numbers = count(1)


def append_attempts(engine: Engine, *attempts: SubmissionAttempt, at: datetime | None = None) -> None:
    """Append `attempts` to the log, each for a new invoice of the org (created on first use), requested
    `at` that instant (default: now, as the pipeline writes them: the moment of the call)."""
    issued_at = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    with session_scope(engine) as session:
        if session.get(VendorOrg, ORG_ID) is None:
            session.add(
                VendorOrg(
                    id=ORG_ID,
                    name="Duka",
                    kra_pin="P051234567A",
                    tax_status=TaxStatus.VERIFIED,
                    device_serial="DEV1",
                )
            )
            session.flush()  # the invoices reference the org, and no relationship orders the inserts
        for attempt in attempts:
            invoice = Invoice(
                org_id=ORG_ID,
                trader_invoice_no=f"INV-{next(_invoice_numbers)}",
                receipt_type="S",
                payment_type="01",
                issued_at=issued_at,
                issue_date=date(2025, 3, 1),
            )
            session.add(invoice)
            session.flush()
            attempt.invoice_id = invoice.id
            attempt.org_id = ORG_ID
            attempt.requested_at = at or now_utc()
            session.add(attempt)


def scrape(engine: Engine) -> Samples:
    """What Prometheus gets: `render_metrics`, which seals closed days first."""
    return _samples(render_metrics(engine))


def read_without_sealing(engine: Engine) -> Samples:
    """The same exposition, leaving the seal where it is."""
    return _samples(generate_latest(build_registry(engine)))


def _samples(exposition: bytes) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition.decode())
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[name, frozenset(labels.items())]
