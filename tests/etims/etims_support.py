"""Builders shared by the eTIMS protocol tests: the live band rates and minimal valid documents."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from etims_pipeline.etims.document import SaleDocument, SaleLine
from etims_pipeline.etims.tax import TaxRates

# Band rates as the class-04 code list gives them: A exempt, B 16 %, C zero-rated, D non-VAT, E 8 %.
RATES = TaxRates({"A": Decimal(0), "B": Decimal(16), "C": Decimal(0), "D": Decimal(0), "E": Decimal(8)})

# 22:30 UTC on 23 Nov is 01:30 Nairobi on 24 Nov.
ISSUED_AT = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)

VALID_PIN = "P051365947M"
OTHER_PIN = "A004416331M"

_LINE = SaleLine(
    item_code="KE1NTXU0000001",
    item_class_code="5059690800",
    item_name="Widget",
    quantity=Decimal("2"),
    unit_price=Decimal("100.00"),
    discount_rate=Decimal("0"),
    tax_band="B",
    packaging_unit="NT",
    quantity_unit="U",
)

_DOC = SaleDocument(
    trader_invoice_no="INV-0001",
    receipt_type="S",
    payment_type="01",
    issued_at=ISSUED_AT,
    customer_pin=VALID_PIN,
    customer_name="Acme Ltd",
    lines=(_LINE,),
)


def make_line(**changes: Any) -> SaleLine:
    """A valid line (2 x 100.00 in band B) with the given fields replaced."""
    return replace(_LINE, **changes)


def make_doc(*lines: SaleLine, **changes: Any) -> SaleDocument:
    """A valid sale with the given lines (one default line when none) and header fields replaced."""
    doc = replace(_DOC, **changes)
    return replace(doc, lines=lines) if lines else doc


def make_credit_note(*lines: SaleLine, **changes: Any) -> SaleDocument:
    defaults: dict[str, Any] = {
        "trader_invoice_no": "CN-0001",
        "receipt_type": "R",
        "original_invoice_no": 41,
        "refund_reason": "06",
    }
    return make_doc(*lines, **{**defaults, **changes})


def dec(text: str) -> Decimal:
    return Decimal(text)
