"""The invoice outbox in the operational store: claims, write-ahead, number reservation, outcomes.

Every state change is a short transaction guarded by compare-and-set, so overlapping runs (the daily run,
a replay, a manual command) can never work on the same invoice at once. Before each save call the
invoice is marked `needs_lookup` and committed; a crash after that point is resolved by asking eTIMS,
never by a blind resend.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, and_, insert, or_, select, update
from sqlalchemy.orm import Session, selectinload

from etims_pipeline.etims.document import SaleDocument, SaleLine
from etims_pipeline.etims.tax import InvoiceTotals
from etims_pipeline.nairobi_time import now_utc
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.dialect import upsert_insert
from etims_pipeline.store.models import (
    SUBMITTABLE_STATUSES,
    Invoice,
    InvoiceSequence,
    InvoiceStatus,
    SubmissionAttempt,
    VendorOrg,
)
from etims_pipeline.submission.attempts import Attempt, attempt_row
from etims_pipeline.submission.guard import OrgSnapshot

CLAIM_LEASE = timedelta(minutes=15)


@dataclass(frozen=True)
class WorkItem:
    """One invoice as a run found it: enough to claim it, validate it and build its payload."""

    invoice_id: int
    org_id: int
    issue_date: date
    status: str
    needs_lookup: bool
    invoice_no: int | None
    claim_expires_at: datetime | None
    original_trader_invoice_no: str | None
    document: SaleDocument


def _rowcount(session: Session, statement: Any) -> int:
    """Rows an UPDATE matched: the compare-and-set succeeded when this is 1."""
    result = session.execute(statement)
    return int(cast(CursorResult[Any], result).rowcount)


def _open_for_work(now: datetime, replay: bool = False) -> Any:
    """What a run may take; a replay also retakes rejections a fix can cure (901/921 after a config fix)."""
    conditions = [
        Invoice.status.in_([s.value for s in SUBMITTABLE_STATUSES]),
        and_(Invoice.status == InvoiceStatus.SENDING.value, Invoice.claim_expires_at < now),
    ]
    if replay:
        conditions.append(and_(Invoice.status == InvoiceStatus.REJECTED.value, Invoice.retryable.is_(True)))
    return or_(*conditions)


def candidate_org_ids(
    engine: Engine, first_day: date, last_day: date, org_ids: Collection[int] | None, *, replay: bool = False
) -> list[int]:
    query = (
        select(Invoice.org_id)
        .where(Invoice.issue_date.between(first_day, last_day), _open_for_work(now_utc(), replay))
        .group_by(Invoice.org_id)
        .order_by(Invoice.org_id)
    )
    if org_ids:
        query = query.where(Invoice.org_id.in_(list(org_ids)))
    with session_scope(engine) as session:
        return list(session.scalars(query))


def org_snapshot(session: Session, org_id: int) -> tuple[OrgSnapshot, VendorOrg]:
    org = session.get(VendorOrg, org_id)
    if org is None:
        raise LookupError(f"org {org_id} does not exist")
    return OrgSnapshot(org_id=org.id, kra_pin=org.kra_pin, tax_status=org.tax_status), org


def _document(invoice: Invoice) -> SaleDocument:
    return SaleDocument(
        trader_invoice_no=invoice.trader_invoice_no,
        receipt_type=invoice.receipt_type,
        payment_type=invoice.payment_type,
        issued_at=invoice.issued_at,
        customer_pin=invoice.customer_pin,
        customer_name=invoice.customer_name,
        lines=tuple(
            SaleLine(
                item_code=line.item_code,
                item_class_code=line.item_class_code,
                item_name=line.item_name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_rate=line.discount_rate,
                tax_band=line.tax_band,
                packaging_unit=line.packaging_unit,
                quantity_unit=line.quantity_unit,
                barcode=line.barcode,
            )
            for line in invoice.lines
        ),
        original_invoice_no=invoice.original_invoice_no or 0,
        refund_reason=invoice.refund_reason,
        remark=invoice.remark,
        declared_total=invoice.declared_total,
    )


@dataclass(frozen=True)
class OpenInvoice:
    """An open invoice as a guard block needs it: no lines, no document."""

    invoice_id: int
    issue_date: date
    status: str
    invoice_no: int | None


def _open_of_org(org_id: int, first_day: date, last_day: date, replay: bool) -> tuple[Any, ...]:
    return (
        Invoice.org_id == org_id,
        Invoice.issue_date.between(first_day, last_day),
        _open_for_work(now_utc(), replay),
    )


def open_invoices(engine: Engine, org_id: int, first_day: date, last_day: date) -> list[OpenInvoice]:
    """The org's invoices of these days that a run may take, without their lines (for a blocked org)."""
    query = (
        select(Invoice.id, Invoice.issue_date, Invoice.status, Invoice.invoice_no)
        .where(*_open_of_org(org_id, first_day, last_day, replay=False))
        .order_by(Invoice.issued_at, Invoice.id)
    )
    with engine.connect() as connection:
        return [OpenInvoice(*row) for row in connection.execute(query)]


def open_work(engine: Engine, org_id: int, first_day: date, last_day: date, *, replay: bool = False) -> list[WorkItem]:
    """The org's invoices of these days that a run may take, in issue order (which fixes number order)."""
    query = (
        select(Invoice)
        .options(selectinload(Invoice.lines))
        .where(*_open_of_org(org_id, first_day, last_day, replay))
        .order_by(Invoice.issued_at, Invoice.id)
    )
    with session_scope(engine) as session:
        return [
            WorkItem(
                invoice_id=inv.id,
                org_id=inv.org_id,
                issue_date=inv.issue_date,
                status=inv.status,
                needs_lookup=inv.needs_lookup,
                invoice_no=inv.invoice_no,
                claim_expires_at=inv.claim_expires_at,
                original_trader_invoice_no=inv.original_trader_invoice_no,
                document=_document(inv),
            )
            for inv in session.scalars(query)
        ]


def claim(engine: Engine, item: WorkItem, run_id: str, *, replay: bool = False) -> bool:
    """Take the invoice for this run if nobody changed it since it was read (compare-and-set)."""
    now = now_utc()
    seen = (
        Invoice.claim_expires_at.is_(None)
        if item.claim_expires_at is None
        else (Invoice.claim_expires_at == item.claim_expires_at)
    )
    statement = (
        update(Invoice)
        .where(Invoice.id == item.invoice_id, Invoice.status == item.status, seen, _open_for_work(now, replay))
        .values(
            status=InvoiceStatus.SENDING.value,
            claimed_by=run_id,
            claim_expires_at=now + CLAIM_LEASE,
            updated_at=now,
        )
    )
    with session_scope(engine) as session:
        return _rowcount(session, statement) == 1


def reserve_invoice_no(session: Session, pin: str, bhf_id: str) -> int:
    """Next invcNo for (PIN, branch), in the caller's transaction; a row lock serialises reservations."""
    values = {"kra_pin": pin, "bhf_id": bhf_id, "last_invoice_no": 0}
    session.execute(upsert_insert(session, InvoiceSequence).values(values).on_conflict_do_nothing())
    statement = (
        update(InvoiceSequence)
        .where(InvoiceSequence.kra_pin == pin, InvoiceSequence.bhf_id == bhf_id)
        .values(last_invoice_no=InvoiceSequence.last_invoice_no + 1)
        .returning(InvoiceSequence.last_invoice_no)
    )
    return int(session.execute(statement).scalar_one())


class ClaimLostError(RuntimeError):
    """The invoice's claim expired and another run took it; this run must leave it alone."""


def write_ahead(engine: Engine, item: WorkItem, *, run_id: str, pin: str, bhf_id: str, totals: InvoiceTotals) -> int:
    """Reserve the number if needed and mark the invoice as possibly sent; committed before the call."""
    now = now_utc()
    with session_scope(engine) as session:
        invoice = session.get(Invoice, item.invoice_id, with_for_update=True)
        if invoice is None or invoice.claimed_by != run_id or invoice.status != InvoiceStatus.SENDING:
            raise ClaimLostError(f"invoice {item.invoice_id} is no longer claimed by run {run_id}")
        if invoice.invoice_no is None:
            invoice.invoice_no = reserve_invoice_no(session, pin, bhf_id)
        invoice.needs_lookup = True
        invoice.attempt_count += 1
        invoice.claim_expires_at = now + CLAIM_LEASE
        invoice.total_taxable = totals.total_taxable
        invoice.total_tax = totals.total_tax
        invoice.total_amount = totals.total_amount
        return invoice.invoice_no


@dataclass(frozen=True)
class Settlement:
    """Where an invoice ends after this run's attempts."""

    status: InvoiceStatus
    code: str | None = None
    message: str | None = None
    retryable: bool = True
    needs_lookup: bool = False
    accepted_at: datetime | None = None
    receipt_no: int | None = None
    total_receipt_no: int | None = None
    internal_data: str | None = None
    signature: str | None = None
    sdc_datetime: datetime | None = None


def settle(engine: Engine, invoice_id: int, run_id: str, settlement: Settlement) -> None:
    """Write the outcome and release the claim; only the claiming run may do so."""
    values: dict[str, Any] = {
        "status": settlement.status.value,
        "status_code": settlement.code,
        "status_message": settlement.message,
        "retryable": settlement.retryable,
        "needs_lookup": settlement.needs_lookup,
        "claimed_by": None,
        "claim_expires_at": None,
        "updated_at": now_utc(),
    }
    if settlement.status == InvoiceStatus.ACCEPTED:
        values.update(
            accepted_at=settlement.accepted_at or now_utc(),
            receipt_no=settlement.receipt_no,
            total_receipt_no=settlement.total_receipt_no,
            internal_data=settlement.internal_data,
            receipt_signature=settlement.signature,
            sdc_datetime=settlement.sdc_datetime,
        )
    statement = update(Invoice).where(Invoice.id == invoice_id, Invoice.claimed_by == run_id).values(values)
    with session_scope(engine) as session:
        if _rowcount(session, statement) != 1:
            raise ClaimLostError(f"invoice {invoice_id} is no longer claimed by run {run_id}")


def block_invoices(
    engine: Engine,
    items: Sequence[OpenInvoice],
    *,
    org: OrgSnapshot,
    run_id: str,
    attempt: Attempt,
    hold: bool,
) -> list[int]:
    """Record a pre-submit block for each invoice that is still open; HELD when the guard holds it.

    Returns the ids actually blocked (an invoice another run has claimed meanwhile is left alone).
    """
    now = now_utc()
    values: dict[str, Any] = {
        "status_code": attempt.result_code,
        "status_message": attempt.result_message,
        "updated_at": now,
    }
    if hold:
        values.update(status=InvoiceStatus.HELD.value, retryable=True)
    ids_by_seen_status: dict[str, list[int]] = {}
    for item in items:
        ids_by_seen_status.setdefault(item.status, []).append(item.invoice_id)
    blocked: list[int] = []
    with session_scope(engine) as session:
        # One compare-and-set UPDATE per status the run saw (usually one), not one per invoice.
        for seen_status, ids in ids_by_seen_status.items():
            statement = (
                update(Invoice)
                .where(Invoice.id.in_(ids), Invoice.status == seen_status, _open_for_work(now))
                .values(values)
                .returning(Invoice.id)
            )
            blocked.extend(session.scalars(statement))
        if blocked:
            done = set(blocked)
            rows = [
                attempt_row(item.invoice_id, item.invoice_no, org=org, run_id=run_id, attempt=attempt)
                for item in items
                if item.invoice_id in done
            ]
            session.execute(insert(SubmissionAttempt), rows)
    return blocked
