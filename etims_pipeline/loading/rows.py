"""One JSON Lines row parsed into a typed record: an org, or an invoice with its lines.

Records compare by value, so "the same row again" (unchanged) and "a different row under the same key"
(a conflict) are plain equality checks, whether the other side comes from the file or from the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from etims_pipeline.etims.codes import RECEIPT_CREDIT_NOTE
from etims_pipeline.etims.document import SaleLine
from etims_pipeline.loading.fields import ROW_BAD_VALUE, ROW_MISSING_FIELD, BadRow, Fields
from etims_pipeline.store.models import Invoice, InvoiceLine, TaxStatus, VendorOrg

TAX_STATUSES = tuple(status.value for status in TaxStatus)
DEFAULT_BHF_ID = "00"


@dataclass(frozen=True)
class OrgRow:
    id: int
    name: str
    kra_pin: str | None
    tax_status: str
    bhf_id: str
    device_serial: str
    cmc_key: str | None  # None means "keep what the store has"

    def __repr__(self) -> str:  # the default repr would print cmc_key
        return f"OrgRow(id={self.id}, kra_pin={self.kra_pin!r}, tax_status={self.tax_status!r})"


@dataclass(frozen=True)
class InvoiceRow:
    org_id: int
    trader_invoice_no: str
    issued_at: datetime  # aware UTC
    customer_pin: str | None
    customer_name: str | None
    payment_type: str
    receipt_type: str
    original_trader_invoice_no: str | None
    refund_reason: str | None
    remark: str | None
    declared_total: Decimal | None
    lines: tuple[SaleLine, ...]

    @property
    def key(self) -> tuple[int, str]:
        return (self.org_id, self.trader_invoice_no)

    @property
    def original_key(self) -> tuple[int, str] | None:
        """The invoice a credit note credits; None for a sale."""
        if self.receipt_type != RECEIPT_CREDIT_NOTE or self.original_trader_invoice_no is None:
            return None
        return (self.org_id, self.original_trader_invoice_no)


def parse_org(row: Mapping[str, object]) -> OrgRow:
    fields = Fields(row)
    bhf_id = fields.optional_text("bhf_id", VendorOrg.bhf_id, default=DEFAULT_BHF_ID)
    if bhf_id is None or len(bhf_id) != 2:
        raise BadRow(ROW_BAD_VALUE, f'"bhf_id" is {bhf_id!r}; a branch id is 2 characters, "00" for the head office')
    return OrgRow(
        id=fields.integer("id"),
        name=fields.text("name", VendorOrg.name),
        kra_pin=fields.optional_text("kra_pin", VendorOrg.kra_pin),
        tax_status=fields.choice("tax_status", VendorOrg.tax_status, TAX_STATUSES),
        bhf_id=bhf_id,
        device_serial=fields.text("device_serial", VendorOrg.device_serial),
        cmc_key=fields.optional_text("cmc_key", VendorOrg.cmc_key),
    )


def _parse_line(fields: Fields) -> SaleLine:
    return SaleLine(
        item_code=fields.text("item_code", InvoiceLine.item_code),
        item_class_code=fields.text("item_class_code", InvoiceLine.item_class_code),
        item_name=fields.text("item_name", InvoiceLine.item_name),
        quantity=fields.decimal("quantity", InvoiceLine.quantity),
        unit_price=fields.decimal("unit_price", InvoiceLine.unit_price),
        discount_rate=fields.decimal("discount_rate", InvoiceLine.discount_rate, default=Decimal(0)),
        tax_band=fields.text("tax_band", InvoiceLine.tax_band),
        packaging_unit=fields.text("packaging_unit", InvoiceLine.packaging_unit),
        quantity_unit=fields.text("quantity_unit", InvoiceLine.quantity_unit),
        barcode=fields.optional_text("barcode", InvoiceLine.barcode),
    )


def parse_invoice(row: Mapping[str, object]) -> InvoiceRow:
    fields = Fields(row)
    org_id = fields.integer("org_id")
    trader_invoice_no = fields.text("trader_invoice_no", Invoice.trader_invoice_no)
    if not trader_invoice_no.strip():
        raise BadRow(ROW_MISSING_FIELD, '"trader_invoice_no" is blank; it identifies the invoice within its org')
    receipt_type = fields.text("receipt_type", Invoice.receipt_type)
    original = fields.optional_text("original_trader_invoice_no", Invoice.original_trader_invoice_no)
    if receipt_type == RECEIPT_CREDIT_NOTE and not original:
        raise BadRow(
            ROW_MISSING_FIELD,
            '"original_trader_invoice_no" is required for a credit note (receipt_type "R"): '
            "name the org's earlier invoice it credits",
        )
    return InvoiceRow(
        org_id=org_id,
        trader_invoice_no=trader_invoice_no,
        issued_at=fields.moment("issued_at"),
        customer_pin=fields.optional_text("customer_pin", Invoice.customer_pin),
        customer_name=fields.optional_text("customer_name", Invoice.customer_name),
        payment_type=fields.text("payment_type", Invoice.payment_type),
        receipt_type=receipt_type,
        original_trader_invoice_no=original,
        refund_reason=fields.optional_text("refund_reason", Invoice.refund_reason),
        remark=fields.optional_text("remark", Invoice.remark),
        declared_total=fields.optional_decimal("total_amount", Invoice.declared_total),
        lines=tuple(_parse_line(line) for line in fields.objects("lines")),
    )
