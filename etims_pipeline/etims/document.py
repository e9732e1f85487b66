"""A sale or credit note as the pipeline holds it before it becomes a saveTrnsSalesOsdc payload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from etims_pipeline.etims.codes import RECEIPT_CREDIT_NOTE
from etims_pipeline.etims.tax import InvoiceTotals, LineAmounts, TaxRates, invoice_totals, line_amounts


@dataclass(frozen=True)
class SaleLine:
    item_code: str
    item_class_code: str
    item_name: str
    quantity: Decimal
    unit_price: Decimal
    discount_rate: Decimal
    tax_band: str
    packaging_unit: str
    quantity_unit: str
    barcode: str | None = None

    def amounts(self, rates: TaxRates) -> LineAmounts:
        return line_amounts(self.quantity, self.unit_price, self.discount_rate, rates.rate(self.tax_band))


@dataclass(frozen=True)
class SaleDocument:
    trader_invoice_no: str
    receipt_type: str
    payment_type: str
    issued_at: datetime
    customer_pin: str | None
    customer_name: str | None
    lines: tuple[SaleLine, ...]
    original_invoice_no: int = 0  # the accepted original's invcNo, for a credit note
    refund_reason: str | None = None
    remark: str | None = None
    declared_total: Decimal | None = None  # the trader's own total, checked against the lines

    @property
    def is_credit_note(self) -> bool:
        return self.receipt_type == RECEIPT_CREDIT_NOTE

    def totals(self, rates: TaxRates) -> InvoiceTotals:
        return invoice_totals(((line.tax_band, line.amounts(rates)) for line in self.lines), rates)
