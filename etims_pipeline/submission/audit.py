"""Set-based audits of the store behind the submission asset checks (what a compliance officer asks)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine, func, not_, or_, select

from etims_pipeline.store.db import session_scope
from etims_pipeline.store.models import (
    AttemptOutcome,
    Invoice,
    InvoiceStatus,
    SubmissionAttempt,
    TaxStatus,
)

_ACCEPTING = (AttemptOutcome.ACCEPTED.value, AttemptOutcome.FOUND.value)


@dataclass(frozen=True)
class GuardViolation:
    attempt_id: int
    org_id: int
    invoice_id: int
    org_tax_status: str | None


def guard_violations(engine: Engine, first_day: date, last_day: date) -> list[GuardViolation]:
    """Calls that reached eTIMS for an invoice of these days while its org failed the guard."""
    query = (
        select(
            SubmissionAttempt.id,
            SubmissionAttempt.org_id,
            SubmissionAttempt.invoice_id,
            SubmissionAttempt.org_tax_status,
        )
        .join(Invoice, Invoice.id == SubmissionAttempt.invoice_id)
        .where(
            Invoice.issue_date.between(first_day, last_day),
            SubmissionAttempt.reached_etims.is_(True),
            or_(
                SubmissionAttempt.org_tax_status.is_distinct_from(TaxStatus.VERIFIED.value),
                not_(func.coalesce(SubmissionAttempt.org_pin_valid, False)),
            ),
        )
        .order_by(SubmissionAttempt.id)
    )
    with session_scope(engine) as session:
        return [GuardViolation(*row) for row in session.execute(query)]


def held_invoices_by_org(engine: Engine, first_day: date, last_day: date) -> dict[int, int]:
    """Orgs awaiting verification, with how many of these days' invoices the guard holds."""
    query = (
        select(Invoice.org_id, func.count())
        .where(Invoice.issue_date.between(first_day, last_day), Invoice.status == InvoiceStatus.HELD.value)
        .group_by(Invoice.org_id)
        .order_by(Invoice.org_id)
    )
    with session_scope(engine) as session:
        return {int(org_id): int(count) for org_id, count in session.execute(query)}


def invoices_accepted_twice(engine: Engine, first_day: date, last_day: date) -> dict[int, int]:
    """Invoices of these days with more than one accepting answer from eTIMS (must be empty)."""
    query = (
        select(SubmissionAttempt.invoice_id, func.count())
        .join(Invoice, Invoice.id == SubmissionAttempt.invoice_id)
        .where(Invoice.issue_date.between(first_day, last_day), SubmissionAttempt.outcome.in_(_ACCEPTING))
        .group_by(SubmissionAttempt.invoice_id)
        .having(func.count() > 1)
    )
    with session_scope(engine) as session:
        return {int(invoice_id): int(count) for invoice_id, count in session.execute(query)}


def accepted_without_receipt(engine: Engine, first_day: date, last_day: date) -> list[int]:
    """Accepted invoices lacking their invoice number or eTIMS signature (must be empty)."""
    query = select(Invoice.id).where(
        Invoice.issue_date.between(first_day, last_day),
        Invoice.status == InvoiceStatus.ACCEPTED.value,
        or_(Invoice.invoice_no.is_(None), Invoice.receipt_signature.is_(None)),
    )
    with session_scope(engine) as session:
        return list(session.scalars(query))


def _scope(first_day: date, last_day: date, org_ids: Collection[int] | None) -> list[Any]:
    """Invoices of these days, of these orgs (all orgs when None or empty)."""
    conditions: list[Any] = [Invoice.issue_date.between(first_day, last_day)]
    if org_ids:
        conditions.append(Invoice.org_id.in_(list(org_ids)))
    return conditions


def status_counts(
    engine: Engine, first_day: date, last_day: date, org_ids: Collection[int] | None = None
) -> dict[str, int]:
    """Where every invoice of these days (and orgs) stands now, whichever run touched it."""
    query = select(Invoice.status, func.count()).where(*_scope(first_day, last_day, org_ids)).group_by(Invoice.status)
    with session_scope(engine) as session:
        return {str(status): int(count) for status, count in session.execute(query)}


def unsettled_statuses(
    engine: Engine, first_day: date, last_day: date, org_ids: Collection[int] | None = None
) -> dict[int, str]:
    """Invoice id → status of every not-yet-accepted invoice in scope: the "before" of a run's transitions."""
    query = select(Invoice.id, Invoice.status).where(
        *_scope(first_day, last_day, org_ids), Invoice.status != InvoiceStatus.ACCEPTED.value
    )
    with session_scope(engine) as session:
        return {int(invoice_id): str(status) for invoice_id, status in session.execute(query)}


@dataclass
class DayStanding:
    """One Nairobi day of one org, as the runbook's command prints it."""

    day: date
    accepted: int = 0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    held: int = 0
    pending: int = 0  # pending, unknown or in flight: not settled yet
    invalid: int = 0


def org_days(engine: Engine, org_id: int, first_day: date, last_day: date) -> list[DayStanding]:
    """Per-day standing of one org's invoices, one grouped query; days without invoices are omitted."""
    query = (
        select(Invoice.issue_date, Invoice.status, Invoice.status_code, func.count())
        .where(*_scope(first_day, last_day, [org_id]))
        .group_by(Invoice.issue_date, Invoice.status, Invoice.status_code)
    )
    days: dict[date, DayStanding] = {}
    with session_scope(engine) as session:
        for day, status, code, count in session.execute(query):
            standing = days.setdefault(day, DayStanding(day))
            if status == InvoiceStatus.ACCEPTED:
                standing.accepted += count
            elif status == InvoiceStatus.REJECTED:
                standing.rejected_by_reason[code or "unknown"] += count
            elif status == InvoiceStatus.HELD:
                standing.held += count
            elif status == InvoiceStatus.INVALID:
                standing.invalid += count
            else:
                standing.pending += count
    return [days[day] for day in sorted(days)]
