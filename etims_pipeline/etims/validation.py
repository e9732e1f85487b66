"""Pre-submission checks of one document: each problem has a stable code and a message an operator can act on.

Malformed invoices stop here, before an invoice number is reserved or anything is sent, so they never
cost a number and never block the rest of the org's day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from etims_pipeline.etims.codes import (
    CREDIT_NOTE_REASONS,
    PAYMENT_TYPES,
    RECEIPT_TYPES,
    TAX_BANDS,
)
from etims_pipeline.etims.document import SaleDocument, SaleLine
from etims_pipeline.etims.money import HUNDRED, has_at_most_2_places
from etims_pipeline.etims.pin import pin_problem
from etims_pipeline.etims.tax import TaxRates

_ITEM_CODE = re.compile(r"[A-Z]{2}[1-3][A-Z0-9]{1,3}[A-Z0-9]{1,3}[0-9]{7}")
_ITEM_CLASS = re.compile(r"[0-9]{8,10}")
_UNIT_CODE = re.compile(r"[A-Z0-9]{1,5}")
MAX_TRADER_INVOICE_NO = 50
MAX_CUSTOMER_NAME = 60
MAX_ITEM_NAME = 200
MAX_REMARK = 400


@dataclass(frozen=True)
class Problem:
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def _line_problems(seq: int, line: SaleLine, rates: TaxRates) -> list[Problem]:
    where = f"line {seq}"
    problems: list[Problem] = []
    if not _ITEM_CODE.fullmatch(line.item_code):
        problems.append(
            Problem(
                "INVOICE_BAD_ITEM_CODE",
                f"{where}: item code {line.item_code!r} is not a KRA item code (e.g. KE1NTXU0000001)",
            )
        )
    if not _ITEM_CLASS.fullmatch(line.item_class_code):
        problems.append(
            Problem("INVOICE_BAD_ITEM_CLASS", f"{where}: item class {line.item_class_code!r} must be 8-10 digits")
        )
    if not line.item_name.strip() or len(line.item_name) > MAX_ITEM_NAME:
        problems.append(Problem("INVOICE_BAD_ITEM_NAME", f"{where}: item name must be 1-{MAX_ITEM_NAME} characters"))
    for label, unit in (("packaging unit", line.packaging_unit), ("quantity unit", line.quantity_unit)):
        if not _UNIT_CODE.fullmatch(unit):
            problems.append(Problem("INVOICE_BAD_UNIT", f"{where}: {label} {unit!r} is not an eTIMS unit code"))
    if line.quantity <= 0 or not has_at_most_2_places(line.quantity):
        problems.append(
            Problem(
                "INVOICE_BAD_QUANTITY",
                f"{where}: quantity {line.quantity} must be positive, 2 decimals at most",
            )
        )
    if line.unit_price < 0 or not has_at_most_2_places(line.unit_price):
        problems.append(
            Problem("INVOICE_BAD_PRICE", f"{where}: unit price {line.unit_price} must be >= 0, 2 decimals at most")
        )
    if not Decimal(0) <= line.discount_rate <= HUNDRED or not has_at_most_2_places(line.discount_rate):
        problems.append(
            Problem("INVOICE_BAD_DISCOUNT", f"{where}: discount rate {line.discount_rate} must be 0-100 percent")
        )
    if line.tax_band not in TAX_BANDS:
        problems.append(
            Problem("INVOICE_BAD_TAX_BAND", f"{where}: tax band {line.tax_band!r} is not one of A, B, C, D, E")
        )
    elif line.tax_band not in rates.by_band:
        problems.append(
            Problem(
                "INVOICE_BAD_TAX_BAND",
                f"{where}: tax band {line.tax_band!r} is missing from the eTIMS code list",
            )
        )
    return problems


def _header_problems(doc: SaleDocument) -> list[Problem]:
    problems: list[Problem] = []
    if not doc.trader_invoice_no.strip() or len(doc.trader_invoice_no) > MAX_TRADER_INVOICE_NO:
        problems.append(
            Problem("INVOICE_BAD_NUMBER", f"trader invoice number must be 1-{MAX_TRADER_INVOICE_NO} characters")
        )
    if doc.receipt_type not in RECEIPT_TYPES:
        problems.append(
            Problem(
                "INVOICE_BAD_RECEIPT_TYPE",
                f"receipt type {doc.receipt_type!r} must be S (sale) or R (credit note)",
            )
        )
    if doc.payment_type not in PAYMENT_TYPES:
        problems.append(Problem("INVOICE_BAD_PAYMENT_TYPE", f"payment type {doc.payment_type!r} must be one of 01-07"))
    if doc.customer_pin:
        reason = pin_problem(doc.customer_pin)
        if reason:
            problems.append(Problem("INVOICE_BAD_CUSTOMER_PIN", f"customer {reason}"))
    if doc.customer_name and len(doc.customer_name) > MAX_CUSTOMER_NAME:
        problems.append(Problem("INVOICE_BAD_CUSTOMER_NAME", f"customer name is over {MAX_CUSTOMER_NAME} characters"))
    if doc.remark and len(doc.remark) > MAX_REMARK:
        problems.append(Problem("INVOICE_BAD_REMARK", f"remark is over {MAX_REMARK} characters"))
    if doc.is_credit_note and doc.refund_reason not in CREDIT_NOTE_REASONS:
        problems.append(
            Problem("CREDIT_NOTE_BAD_REASON", f"credit note reason {doc.refund_reason!r} must be one of 01-06")
        )
    if not doc.lines:
        problems.append(Problem("INVOICE_NO_LINES", "invoice has no lines"))
    return problems


def document_problems(doc: SaleDocument, rates: TaxRates) -> list[Problem]:
    problems = _header_problems(doc)
    for seq, line in enumerate(doc.lines, start=1):
        problems.extend(_line_problems(seq, line, rates))
    if not problems and doc.declared_total is not None:
        computed = doc.totals(rates).total_amount
        if computed != doc.declared_total:
            problems.append(
                Problem(
                    "INVOICE_TOTALS_MISMATCH",
                    f"declared total {doc.declared_total} differs from the lines' total {computed} "
                    "(VAT-exclusive prices, 2-decimal rounding per line)",
                )
            )
    return problems
