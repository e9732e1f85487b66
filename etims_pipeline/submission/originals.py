"""The original sale a credit note credits, with what earlier credit notes already took from it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import selectinload

from etims_pipeline.store.db import session_scope
from etims_pipeline.store.models import Invoice, InvoiceLine, InvoiceStatus


@dataclass(frozen=True)
class OriginalSale:
    """An original invoice as a credit note sees it, with what earlier credit notes already took."""

    status: str
    invoice_no: int | None
    customer_pin: str | None
    quantity_by_item: dict[str, Decimal]
    total_amount: Decimal | None
    credited_quantity_by_item: dict[str, Decimal]
    credited_amount: Decimal


# Credit notes that may already be at eTIMS count against the original, as do accepted ones.
_CREDITING_STATUSES = (InvoiceStatus.ACCEPTED.value, InvoiceStatus.UNKNOWN.value, InvoiceStatus.SENDING.value)


def original_sale(
    engine: Engine, org_id: int, trader_invoice_no: str, excluding_invoice_id: int
) -> OriginalSale | None:
    with session_scope(engine) as session:
        original = session.scalars(
            select(Invoice)
            .options(selectinload(Invoice.lines))
            .where(Invoice.org_id == org_id, Invoice.trader_invoice_no == trader_invoice_no)
        ).one_or_none()
        if original is None:
            return None
        quantities: dict[str, Decimal] = {}
        for line in original.lines:
            quantities[line.item_code] = quantities.get(line.item_code, Decimal(0)) + line.quantity
        credit_filter = (
            Invoice.org_id == org_id,
            Invoice.original_trader_invoice_no == trader_invoice_no,
            Invoice.id != excluding_invoice_id,
            Invoice.status.in_(_CREDITING_STATUSES),
        )
        credited_rows = session.execute(
            select(InvoiceLine.item_code, func.sum(InvoiceLine.quantity))
            .join(Invoice.lines)
            .where(*credit_filter)
            .group_by(InvoiceLine.item_code)
        ).all()
        credited_amount = session.scalar(select(func.coalesce(func.sum(Invoice.total_amount), 0)).where(*credit_filter))
        return OriginalSale(
            status=original.status,
            invoice_no=original.invoice_no,
            customer_pin=original.customer_pin,
            quantity_by_item=quantities,
            total_amount=original.total_amount,
            credited_quantity_by_item={code: Decimal(qty) for code, qty in credited_rows},
            credited_amount=Decimal(credited_amount or 0),
        )
