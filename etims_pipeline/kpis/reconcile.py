"""Reconcile the KPI table with the store: range totals recounted independently from invoices and attempts.

Deliberately simple SQL that shares nothing with `kpis.queries`: counts by invoice status, acceptances
from the attempt log, and money from the totals stored on each invoice when it was numbered (not from
the lines, as the KPIs are). Orgs whose KPI write failed in this run are left out of both sides.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection, Engine, distinct, func, select

from etims_pipeline.etims.codes import RECEIPT_SALE
from etims_pipeline.etims.money import db_money
from etims_pipeline.store.kpi_models import VendorKpiDaily
from etims_pipeline.store.models import AttemptOutcome, Invoice, InvoiceStatus, SubmissionAttempt

RECONCILED = ("invoices_issued", "accepted", "rejected", "held", "gross_sales", "tax")
Totals = dict[str, int | Decimal]


def kpi_totals(conn: Connection, first_day: date, last_day: date, excluded_orgs: Collection[int]) -> Totals:
    k = VendorKpiDaily
    tax = k.tax_a + k.tax_b + k.tax_c + k.tax_d + k.tax_e
    issued, accepted, rejected, held, gross, tax_total = conn.execute(
        select(
            func.coalesce(func.sum(k.invoices_issued), 0),
            func.coalesce(func.sum(k.accepted), 0),
            func.coalesce(func.sum(k.rejected), 0),
            func.coalesce(func.sum(k.held), 0),
            func.coalesce(func.sum(k.gross_sales), 0),
            func.coalesce(func.sum(tax), 0),
        ).where(k.kpi_date.between(first_day, last_day), k.org_id.not_in(excluded_orgs))
    ).one()
    return {
        "invoices_issued": int(issued),
        "accepted": int(accepted),
        "rejected": int(rejected),
        "held": int(held),
        "gross_sales": db_money(gross),
        "tax": db_money(tax_total),
    }


def store_totals(conn: Connection, first_day: date, last_day: date, excluded_orgs: Collection[int]) -> Totals:
    in_range = (Invoice.issue_date.between(first_day, last_day), Invoice.org_id.not_in(excluded_orgs))
    by_status = dict(
        conn.execute(select(Invoice.status, func.count()).where(*in_range).group_by(Invoice.status)).tuples().all()
    )
    accepted = conn.scalar(
        select(func.count(distinct(SubmissionAttempt.invoice_id)))
        .join(Invoice, Invoice.id == SubmissionAttempt.invoice_id)
        .where(*in_range, SubmissionAttempt.outcome.in_([AttemptOutcome.ACCEPTED.value, AttemptOutcome.FOUND.value]))
    )
    gross, tax = conn.execute(
        select(func.coalesce(func.sum(Invoice.total_amount), 0), func.coalesce(func.sum(Invoice.total_tax), 0)).where(
            *in_range, Invoice.status == InvoiceStatus.ACCEPTED.value, Invoice.receipt_type == RECEIPT_SALE
        )
    ).one()
    return {
        "invoices_issued": sum(by_status.values()),
        "accepted": int(accepted or 0),
        "rejected": by_status.get(InvoiceStatus.REJECTED.value, 0),
        "held": by_status.get(InvoiceStatus.HELD.value, 0),
        "gross_sales": db_money(gross),
        "tax": db_money(tax),
    }


def reconcile(
    engine: Engine, first_day: date, last_day: date, excluded_orgs: Collection[int]
) -> dict[str, tuple[int | Decimal, int | Decimal]]:
    """Every total that differs, as {name: (kpi table, store)}; empty when the KPIs reconcile."""
    with engine.connect() as conn:
        kpis = kpi_totals(conn, first_day, last_day, excluded_orgs)
        store = store_totals(conn, first_day, last_day, excluded_orgs)
    return {name: (kpis[name], store[name]) for name in RECONCILED if kpis[name] != store[name]}
