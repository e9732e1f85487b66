"""Set-based reads and bulk inserts of invoices for the loader: a few statements per batch, never per row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, insert, select, tuple_
from sqlalchemy.orm import Session

from etims_pipeline.etims.document import SaleLine
from etims_pipeline.loading.rows import InvoiceRow
from etims_pipeline.nairobi_time import nairobi_date
from etims_pipeline.store.models import Base, Invoice, InvoiceLine, InvoiceStatus, VendorOrg

InvoiceKey = tuple[int, str]

_HEADER_COLUMNS = (
    Invoice.id,
    Invoice.org_id,
    Invoice.trader_invoice_no,
    Invoice.issued_at,
    Invoice.customer_pin,
    Invoice.customer_name,
    Invoice.payment_type,
    Invoice.receipt_type,
    Invoice.original_trader_invoice_no,
    Invoice.refund_reason,
    Invoice.remark,
    Invoice.declared_total,
)
_LINE_FIELDS = tuple(SaleLine.__dataclass_fields__)
_INVOICES = Base.metadata.tables[Invoice.__tablename__]
_INVOICE_LINES = Base.metadata.tables[InvoiceLine.__tablename__]


def known_org_ids(session: Session, org_ids: Collection[int]) -> set[int]:
    return set(session.scalars(select(VendorOrg.id).where(VendorOrg.id.in_(org_ids))))


def _key_filter(keys: Collection[InvoiceKey]) -> ColumnElement[bool]:
    # The two plain INs let SQLite search the (org_id, trader_invoice_no) index; a tuple IN alone scans.
    return and_(
        Invoice.org_id.in_({org_id for org_id, _ in keys}),
        Invoice.trader_invoice_no.in_({number for _, number in keys}),
        tuple_(Invoice.org_id, Invoice.trader_invoice_no).in_(keys),
    )


def _invoice_ids(session: Session, keys: Collection[InvoiceKey]) -> dict[InvoiceKey, int]:
    rows = session.execute(select(Invoice.org_id, Invoice.trader_invoice_no, Invoice.id).where(_key_filter(keys)))
    return {(org_id, number): invoice_id for org_id, number, invoice_id in rows}


def existing_keys(session: Session, keys: Collection[InvoiceKey]) -> set[InvoiceKey]:
    return set(_invoice_ids(session, keys))


def stored_invoices(session: Session, keys: Collection[InvoiceKey]) -> dict[InvoiceKey, InvoiceRow]:
    """The stored invoices among `keys`, as the rows that would load them (to compare with the file)."""
    headers = session.execute(select(*_HEADER_COLUMNS).where(_key_filter(keys))).all()
    if not headers:
        return {}
    lines: dict[int, list[SaleLine]] = defaultdict(list)
    line_columns = [getattr(InvoiceLine, name) for name in _LINE_FIELDS]
    line_query = (
        select(InvoiceLine.invoice_id, *line_columns)
        .where(InvoiceLine.invoice_id.in_([header.id for header in headers]))
        .order_by(InvoiceLine.invoice_id, InvoiceLine.seq)
    )
    for invoice_id, *values in session.execute(line_query):
        lines[invoice_id].append(SaleLine(*values))
    return {
        (header.org_id, header.trader_invoice_no): InvoiceRow(
            org_id=header.org_id,
            trader_invoice_no=header.trader_invoice_no,
            issued_at=header.issued_at,
            customer_pin=header.customer_pin,
            customer_name=header.customer_name,
            payment_type=header.payment_type,
            receipt_type=header.receipt_type,
            original_trader_invoice_no=header.original_trader_invoice_no,
            refund_reason=header.refund_reason,
            remark=header.remark,
            declared_total=header.declared_total,
            lines=tuple(lines[header.id]),
        )
        for header in headers
    }


def _header_values(row: InvoiceRow) -> dict[str, Any]:
    return {
        "org_id": row.org_id,
        "trader_invoice_no": row.trader_invoice_no,
        "receipt_type": row.receipt_type,
        "original_trader_invoice_no": row.original_trader_invoice_no,
        "refund_reason": row.refund_reason,
        "payment_type": row.payment_type,
        "issued_at": row.issued_at,
        "issue_date": nairobi_date(row.issued_at),
        "customer_pin": row.customer_pin,
        "customer_name": row.customer_name,
        "remark": row.remark,
        "declared_total": row.declared_total,
        "status": InvoiceStatus.PENDING.value,
    }


def insert_invoices(session: Session, rows: Iterable[InvoiceRow]) -> int:
    """Insert new invoices (status pending) and their lines (seq 1..n); returns how many invoices."""
    new_rows = list(rows)
    if not new_rows:
        return 0
    # Plain executemany, then one SELECT for the ids: RETURNING in parameter order degrades to one
    # statement per row on SQLite.
    session.execute(insert(_INVOICES), [_header_values(row) for row in new_rows])
    invoice_ids = _invoice_ids(session, [row.key for row in new_rows])
    line_values = [
        {
            "invoice_id": invoice_ids[row.key],
            "seq": seq,
            **{name: getattr(line, name) for name in _LINE_FIELDS},
        }
        for row in new_rows
        for seq, line in enumerate(row.lines, start=1)
    ]
    if line_values:
        session.execute(insert(_INVOICE_LINES), line_values)
    return len(new_rows)
