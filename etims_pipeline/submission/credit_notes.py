"""Credit-note guardrails eTIMS itself does not enforce: checked before a credit note is numbered or sent.

The original must be accepted, carry the same customer PIN, and all credit notes against it together
may not take more quantity of any item, or more value, than the original had.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from etims_pipeline.etims.document import SaleDocument
from etims_pipeline.etims.pin import normalize_pin
from etims_pipeline.etims.tax import TaxRates
from etims_pipeline.etims.validation import Problem
from etims_pipeline.store.models import InvoiceStatus
from etims_pipeline.submission.originals import OriginalSale

_WAITING_STATUSES = (
    InvoiceStatus.PENDING.value,
    InvoiceStatus.HELD.value,
    InvoiceStatus.SENDING.value,
    InvoiceStatus.UNKNOWN.value,
)


@dataclass(frozen=True)
class CreditNoteVerdict:
    problem: Problem | None = None  # the credit note can never go as it is
    waiting_for_original: bool = False  # the original is not accepted yet; try again on a later run
    original_invoice_no: int = 0


def judge_credit_note(doc: SaleDocument, original: OriginalSale | None, rates: TaxRates) -> CreditNoteVerdict:
    if original is None:
        return CreditNoteVerdict(Problem("CREDIT_NOTE_ORIGINAL_NOT_FOUND", "the credited invoice is not in the store"))
    if original.status in _WAITING_STATUSES:
        return CreditNoteVerdict(waiting_for_original=True)
    if original.status != InvoiceStatus.ACCEPTED or original.invoice_no is None:
        return CreditNoteVerdict(
            Problem(
                "CREDIT_NOTE_ORIGINAL_NOT_ACCEPTED",
                f"the credited invoice ended {original.status}; only an invoice accepted by eTIMS can be credited",
            )
        )
    if normalize_pin(doc.customer_pin) != normalize_pin(original.customer_pin):
        return CreditNoteVerdict(
            Problem(
                "CREDIT_NOTE_PIN_MISMATCH",
                f"customer PIN {doc.customer_pin!r} differs from the original's {original.customer_pin!r}",
            )
        )
    wanted: dict[str, Decimal] = {}
    for line in doc.lines:
        wanted[line.item_code] = wanted.get(line.item_code, Decimal(0)) + line.quantity
    for item_code, quantity in sorted(wanted.items()):
        sold = original.quantity_by_item.get(item_code, Decimal(0))
        already = original.credited_quantity_by_item.get(item_code, Decimal(0))
        if already + quantity > sold:
            return CreditNoteVerdict(
                Problem(
                    "CREDIT_NOTE_EXCEEDS_ORIGINAL",
                    f"item {item_code}: credits {quantity} but only {sold - already} of {sold} is left to credit",
                )
            )
    amount = doc.totals(rates).total_amount
    if original.total_amount is not None and original.credited_amount + amount > original.total_amount:
        left = original.total_amount - original.credited_amount
        return CreditNoteVerdict(
            Problem(
                "CREDIT_NOTE_EXCEEDS_ORIGINAL",
                f"credits {amount} but only {left} of the original's {original.total_amount} is left to credit",
            )
        )
    return CreditNoteVerdict(original_invoice_no=original.invoice_no)
