"""Builders for orgs and invoices in the operational store, for tests."""

from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine

from etims_pipeline.nairobi_time import NAIROBI, nairobi_date, to_utc
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.models import Invoice, InvoiceLine, TaxStatus, VendorOrg

_trader_numbers = itertools.count(1)


def make_org(
    engine: Engine,
    org_id: int,
    *,
    kra_pin: str | None = None,
    tax_status: str = TaxStatus.VERIFIED.value,
    bhf_id: str = "00",
    cmc_key: str | None = None,
) -> None:
    with session_scope(engine) as session:
        session.add(
            VendorOrg(
                id=org_id,
                name=f"Vendor {org_id}",
                kra_pin=kra_pin if kra_pin is not None else f"P{org_id:09d}K",
                tax_status=tax_status,
                bhf_id=bhf_id,
                device_serial=f"DVC-{org_id:04d}-01",
                cmc_key=cmc_key,
            )
        )


def line(
    *,
    item_code: str = "KE1NTXU0000001",
    quantity: str = "2",
    unit_price: str = "100.00",
    discount_rate: str = "0",
    tax_band: str = "B",
) -> dict[str, object]:
    return {
        "item_code": item_code,
        "item_class_code": "5059690800",
        "item_name": f"Item {item_code}",
        "quantity": Decimal(quantity),
        "unit_price": Decimal(unit_price),
        "discount_rate": Decimal(discount_rate),
        "tax_band": tax_band,
        "packaging_unit": "NT",
        "quantity_unit": "U",
    }


def make_invoice(
    engine: Engine,
    org_id: int,
    issued_at: datetime,
    *,
    lines: list[dict[str, object]] | None = None,
    trader_invoice_no: str | None = None,
    receipt_type: str = "S",
    original: str | None = None,
    refund_reason: str | None = None,
    customer_pin: str | None = None,
    declared_total: str | None = None,
) -> int:
    """An invoice issued at `issued_at` (naive means Nairobi wall time); returns its id."""
    moment = issued_at if issued_at.tzinfo else issued_at.replace(tzinfo=NAIROBI)
    with session_scope(engine) as session:
        invoice = Invoice(
            org_id=org_id,
            trader_invoice_no=trader_invoice_no or f"INV-{next(_trader_numbers):06d}",
            receipt_type=receipt_type,
            original_trader_invoice_no=original,
            refund_reason=refund_reason,
            payment_type="01",
            issued_at=to_utc(moment),
            issue_date=nairobi_date(moment),
            customer_pin=customer_pin,
            customer_name="Customer Ltd",
            declared_total=Decimal(declared_total) if declared_total else None,
            lines=[InvoiceLine(seq=n, **spec) for n, spec in enumerate(lines or [line()], start=1)],
        )
        session.add(invoice)
        session.flush()
        return invoice.id
