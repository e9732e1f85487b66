"""The set-based reads behind the vendor KPIs: a fixed number of queries per range, whatever the org count.

Every query covers all orgs and all days of [first_day, last_day] at once and returns a DataFrame;
`kpis.compute` shapes them into one row per org and day. Days are Nairobi days: the invoice's
`issue_date`, or UTC bounds from `nairobi_time` when an instant (an attempt) must be placed on a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Connection, Select, case, func, or_, select

from etims_pipeline.etims.codes import RECEIPT_CREDIT_NOTE, RECEIPT_SALE
from etims_pipeline.nairobi_time import backlog_cutoff_utc, day_bounds_utc
from etims_pipeline.store.models import (
    AttemptKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    SubmissionAttempt,
    TaxRateEntry,
    VendorOrg,
)


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _first_reached_etims(invoices: ColumnElement[bool]) -> Select[tuple[int, datetime]]:
    """Per invoice matching `invoices`, when an attempt first reached eTIMS (bounded by the invoices, so a
    run aggregates its range's attempts, not the whole log)."""
    return (
        select(SubmissionAttempt.invoice_id, func.min(SubmissionAttempt.requested_at).label("first_reached_at"))
        .join(Invoice, Invoice.id == SubmissionAttempt.invoice_id)
        .where(SubmissionAttempt.reached_etims.is_(True), invoices)
        .group_by(SubmissionAttempt.invoice_id)
    )


def invoice_counts(conn: Connection, first_day: date, last_day: date) -> pd.DataFrame:
    """Per org and issue day: invoices issued (sales, credit notes), submitted, and where they stand now."""
    in_range = Invoice.issue_date.between(first_day, last_day)
    reached = _first_reached_etims(in_range).subquery()
    status = Invoice.status
    query = (
        select(
            Invoice.org_id,
            Invoice.issue_date.label("kpi_date"),
            func.count().label("invoices_issued"),
            _count_where(Invoice.receipt_type == RECEIPT_SALE).label("sales_issued"),
            _count_where(Invoice.receipt_type == RECEIPT_CREDIT_NOTE).label("credit_note_count"),
            _count_where(reached.c.first_reached_at.is_not(None)).label("submitted"),
            _count_where(status == InvoiceStatus.ACCEPTED.value).label("accepted"),
            _count_where(status == InvoiceStatus.REJECTED.value).label("rejected"),
            _count_where(status == InvoiceStatus.HELD.value).label("held"),
            _count_where(status == InvoiceStatus.INVALID.value).label("invalid"),
        )
        .outerjoin(reached, reached.c.invoice_id == Invoice.id)
        .where(in_range)
        .group_by(Invoice.org_id, Invoice.issue_date)
    )
    return _frame(conn, query)


def rejection_reasons(conn: Connection, first_day: date, last_day: date) -> pd.DataFrame:
    """Per org and issue day: rejected invoices by the code eTIMS gave (`status_code`)."""
    reason = func.coalesce(Invoice.status_code, "unknown").label("reason")
    query = (
        select(Invoice.org_id, Invoice.issue_date.label("kpi_date"), reason, func.count().label("count"))
        .where(Invoice.issue_date.between(first_day, last_day), Invoice.status == InvoiceStatus.REJECTED.value)
        .group_by(Invoice.org_id, Invoice.issue_date, reason)
    )
    return _frame(conn, query)


def band_amounts(conn: Connection, first_day: date, last_day: date) -> pd.DataFrame:
    """Per org, issue day, receipt type and tax band: taxable and tax of accepted invoices' lines.

    Line arithmetic follows `etims.tax` (VAT-exclusive prices, each amount rounded to the cent), with the
    band rates of the store's code-list cache.
    """
    supply = func.round(InvoiceLine.quantity * InvoiceLine.unit_price, 2)
    taxable = supply - func.round(supply * InvoiceLine.discount_rate / 100, 2)
    tax = func.round(taxable * func.coalesce(TaxRateEntry.rate, 0) / 100, 2)
    query = (
        select(
            Invoice.org_id,
            Invoice.issue_date.label("kpi_date"),
            Invoice.receipt_type,
            InvoiceLine.tax_band,
            func.sum(taxable).label("taxable"),
            func.sum(tax).label("tax"),
        )
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .outerjoin(TaxRateEntry, TaxRateEntry.band == InvoiceLine.tax_band)
        .where(Invoice.issue_date.between(first_day, last_day), Invoice.status == InvoiceStatus.ACCEPTED.value)
        .group_by(Invoice.org_id, Invoice.issue_date, Invoice.receipt_type, InvoiceLine.tax_band)
    )
    return _frame(conn, query)


def save_latencies(conn: Connection, first_day: date, last_day: date) -> pd.DataFrame:
    """Every save call that reached eTIMS for an invoice of the range, with its latency in seconds."""
    query = (
        select(Invoice.org_id, Invoice.issue_date.label("kpi_date"), SubmissionAttempt.latency_seconds)
        .join(Invoice, Invoice.id == SubmissionAttempt.invoice_id)
        .where(
            Invoice.issue_date.between(first_day, last_day),
            SubmissionAttempt.kind == AttemptKind.SAVE.value,
            SubmissionAttempt.reached_etims.is_(True),
            SubmissionAttempt.latency_seconds.is_not(None),
        )
    )
    return _frame(conn, query)


def acceptance_times(conn: Connection, first_day: date, last_day: date) -> pd.DataFrame:
    """Accepted invoices of the range with their issue and acceptance instants."""
    query = select(Invoice.org_id, Invoice.issue_date.label("kpi_date"), Invoice.issued_at, Invoice.accepted_at).where(
        Invoice.issue_date.between(first_day, last_day),
        Invoice.status == InvoiceStatus.ACCEPTED.value,
        Invoice.accepted_at.is_not(None),
    )
    return _frame(conn, query)


def backlog_candidates(conn: Connection, first_day: date, last_day: date) -> pd.DataFrame:
    """Invoices that were not in eTIMS at the backlog cut-off of at least one day of the range."""
    reached = _first_reached_etims(Invoice.issue_date <= last_day).subquery()
    query = (
        select(Invoice.org_id, Invoice.issue_date, Invoice.issued_at, reached.c.first_reached_at)
        .outerjoin(reached, reached.c.invoice_id == Invoice.id)
        .where(
            Invoice.issue_date <= last_day,
            or_(reached.c.first_reached_at.is_(None), reached.c.first_reached_at >= backlog_cutoff_utc(first_day)),
        )
    )
    return _frame(conn, query)


@dataclass(frozen=True)
class NumberSightings:
    """Invoice numbers in the attempt log: a summary before the range, and first sightings within it."""

    before: pd.DataFrame  # org_id, max_no, numbers: seen before the range's first day
    within: pd.DataFrame  # org_id, invoice_no, first_seen_at: first seen during the range


def number_sightings(conn: Connection, first_day: date, last_day: date) -> NumberSightings:
    start, end = day_bounds_utc(first_day, last_day)
    numbered = SubmissionAttempt.invoice_no.is_not(None)
    before = (
        select(
            SubmissionAttempt.org_id,
            func.max(SubmissionAttempt.invoice_no).label("max_no"),
            func.count(SubmissionAttempt.invoice_no.distinct()).label("numbers"),
        )
        .where(numbered, SubmissionAttempt.requested_at < start)
        .group_by(SubmissionAttempt.org_id)
    )
    first_seen = func.min(SubmissionAttempt.requested_at)
    within = (
        select(SubmissionAttempt.org_id, SubmissionAttempt.invoice_no, first_seen.label("first_seen_at"))
        .where(numbered, SubmissionAttempt.requested_at < end)
        .group_by(SubmissionAttempt.org_id, SubmissionAttempt.invoice_no)
        .having(first_seen >= start)
    )
    return NumberSightings(_frame(conn, before), _frame(conn, within))


def org_ids(conn: Connection) -> list[int]:
    return [int(org_id) for org_id in conn.scalars(select(VendorOrg.id).order_by(VendorOrg.id))]


def _frame(conn: Connection, query: Select[Any]) -> pd.DataFrame:
    result = conn.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
