"""Credit-note guardrails: accepted original, same PIN, cumulative quantity and value within the original."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from etims_pipeline.etims.document import SaleDocument, SaleLine
from etims_pipeline.etims.tax import TaxRates
from etims_pipeline.store.models import InvoiceStatus
from etims_pipeline.submission.credit_notes import CreditNoteVerdict, judge_credit_note
from etims_pipeline.submission.originals import OriginalSale

RATES = TaxRates({"A": Decimal(0), "B": Decimal(16), "C": Decimal(0), "D": Decimal(0), "E": Decimal(8)})
PIN = "P051365947M"
ITEM = "KE1NTXU0000001"
OTHER_ITEM = "KE2NTXU0000002"


def line(item_code: str = ITEM, quantity: str = "1", unit_price: str = "100.00", band: str = "B") -> SaleLine:
    return SaleLine(
        item_code=item_code,
        item_class_code="5059690800",
        item_name="Widget",
        quantity=Decimal(quantity),
        unit_price=Decimal(unit_price),
        discount_rate=Decimal(0),
        tax_band=band,
        packaging_unit="NT",
        quantity_unit="U",
    )


def credit_note(*lines: SaleLine, customer_pin: str | None = PIN) -> SaleDocument:
    return SaleDocument(
        trader_invoice_no="CN-1",
        receipt_type="R",
        payment_type="01",
        issued_at=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
        customer_pin=customer_pin,
        customer_name="Acme Ltd",
        lines=lines or (line(),),
        refund_reason="06",
    )


# The original: 5 x 100.00 of ITEM and 2 x 50.00 of OTHER_ITEM at 16 % -> 580.00 + 116.00 = 696.00.
ORIGINAL = OriginalSale(
    status=InvoiceStatus.ACCEPTED.value,
    invoice_no=41,
    customer_pin=PIN,
    quantity_by_item={ITEM: Decimal(5), OTHER_ITEM: Decimal(2)},
    total_amount=Decimal("696.00"),
    credited_quantity_by_item={},
    credited_amount=Decimal("0.00"),
)


def original(**changes: Any) -> OriginalSale:
    return replace(ORIGINAL, **changes)


def assert_problem(verdict: CreditNoteVerdict, code: str, fragment: str) -> None:
    assert verdict.problem is not None
    assert verdict.problem.code == code
    assert fragment in verdict.problem.message
    assert verdict.waiting_for_original is False
    assert verdict.original_invoice_no == 0


def test_a_credit_note_within_the_original_passes_with_its_number() -> None:
    verdict = judge_credit_note(credit_note(line(quantity="2")), original(), RATES)
    assert verdict == CreditNoteVerdict(problem=None, waiting_for_original=False, original_invoice_no=41)


def test_missing_original() -> None:
    assert_problem(judge_credit_note(credit_note(), None, RATES), "CREDIT_NOTE_ORIGINAL_NOT_FOUND", "not in the store")


@pytest.mark.parametrize("status", ["pending", "held", "sending", "unknown"])
def test_original_not_settled_yet_means_wait(status: str) -> None:
    verdict = judge_credit_note(credit_note(), original(status=status, invoice_no=None), RATES)
    assert verdict.waiting_for_original is True
    assert verdict.problem is None
    assert verdict.original_invoice_no == 0


@pytest.mark.parametrize("status", ["rejected", "invalid"])
def test_original_that_failed_cannot_be_credited(status: str) -> None:
    verdict = judge_credit_note(credit_note(), original(status=status), RATES)
    assert_problem(verdict, "CREDIT_NOTE_ORIGINAL_NOT_ACCEPTED", f"the credited invoice ended {status}")


def test_accepted_original_without_a_number_cannot_be_credited() -> None:
    verdict = judge_credit_note(credit_note(), original(invoice_no=None), RATES)
    assert_problem(verdict, "CREDIT_NOTE_ORIGINAL_NOT_ACCEPTED", "only an invoice accepted by eTIMS")


@pytest.mark.parametrize(
    ("note_pin", "original_pin"),
    [("A004416331M", PIN), (None, PIN), (PIN, None), (PIN, "")],
)
def test_customer_pin_must_match_the_original(note_pin: str | None, original_pin: str | None) -> None:
    verdict = judge_credit_note(credit_note(customer_pin=note_pin), original(customer_pin=original_pin), RATES)
    assert_problem(
        verdict,
        "CREDIT_NOTE_PIN_MISMATCH",
        f"customer PIN {note_pin!r} differs from the original's {original_pin!r}",
    )


@pytest.mark.parametrize(
    ("note_pin", "original_pin"),
    [(" p051365947m ", PIN), (PIN, "p051365947m"), (None, None), ("", None)],
)
def test_pin_comparison_is_normalised(note_pin: str | None, original_pin: str | None) -> None:
    verdict = judge_credit_note(credit_note(customer_pin=note_pin), original(customer_pin=original_pin), RATES)
    assert verdict.problem is None
    assert verdict.original_invoice_no == 41


@pytest.mark.parametrize(
    ("credited", "quantity", "ok"),
    [
        ("0", "5", True),  # exactly the whole quantity
        ("0", "5.01", False),
        ("3", "2", True),  # exactly what is left
        ("3", "2.01", False),
        ("5", "0.01", False),  # already fully credited
        ("4.5", "0.5", True),
    ],
)
def test_cumulative_quantity_per_item(credited: str, quantity: str, ok: bool) -> None:
    sale = original(
        credited_quantity_by_item={ITEM: Decimal(credited)},
        total_amount=None,  # isolate the quantity rule
    )
    verdict = judge_credit_note(credit_note(line(quantity=quantity)), sale, RATES)
    if ok:
        assert verdict.problem is None
        assert verdict.original_invoice_no == 41
    else:
        left = Decimal(5) - Decimal(credited)
        assert_problem(verdict, "CREDIT_NOTE_EXCEEDS_ORIGINAL", f"item {ITEM}: credits {quantity} but only {left} of 5")


def test_lines_of_the_same_item_are_added_up() -> None:
    note = credit_note(line(quantity="2"), line(quantity="2"))
    sale = original(credited_quantity_by_item={ITEM: Decimal(2)}, total_amount=None)
    assert_problem(judge_credit_note(note, sale, RATES), "CREDIT_NOTE_EXCEEDS_ORIGINAL", "credits 4 but only 3 of 5")


def test_quantities_are_checked_per_item() -> None:
    note = credit_note(line(quantity="1"), line(item_code=OTHER_ITEM, quantity="3", unit_price="50.00"))
    verdict = judge_credit_note(note, original(), RATES)
    assert_problem(verdict, "CREDIT_NOTE_EXCEEDS_ORIGINAL", f"item {OTHER_ITEM}: credits 3 but only 2 of 2")


def test_an_item_not_on_the_original_cannot_be_credited() -> None:
    note = credit_note(line(item_code="KE3NTXU0000009"))
    verdict = judge_credit_note(note, original(), RATES)
    assert_problem(verdict, "CREDIT_NOTE_EXCEEDS_ORIGINAL", "item KE3NTXU0000009: credits 1 but only 0 of 0")


@pytest.mark.parametrize(
    ("credited_amount", "unit_price", "ok"),
    [
        ("0.00", "100.00", True),
        ("580.00", "100.00", True),  # 580.00 + 116.00 = 696.00: exactly at the limit
        ("580.01", "100.00", False),
        ("0.00", "600.00", True),  # 696.00 exactly
        ("0.00", "600.01", False),  # 600.01 + 96.0016 -> 696.01
    ],
)
def test_cumulative_value(credited_amount: str, unit_price: str, ok: bool) -> None:
    sale = original(credited_amount=Decimal(credited_amount))
    verdict = judge_credit_note(credit_note(line(unit_price=unit_price)), sale, RATES)
    if ok:
        assert verdict.problem is None
        assert verdict.original_invoice_no == 41
    else:
        left = Decimal("696.00") - Decimal(credited_amount)
        assert_problem(
            verdict, "CREDIT_NOTE_EXCEEDS_ORIGINAL", f"but only {left} of the original's 696.00 is left to credit"
        )


def test_value_is_compared_including_tax() -> None:
    # 1 x 100.00 at B is 116.00: over what is left (115.99) even though the net 100.00 would fit.
    sale = original(credited_amount=Decimal("580.01"))
    verdict = judge_credit_note(credit_note(line()), sale, RATES)
    assert_problem(verdict, "CREDIT_NOTE_EXCEEDS_ORIGINAL", "credits 116.00 but only 115.99")


def test_value_rule_is_skipped_when_the_original_total_is_unknown() -> None:
    sale = original(total_amount=None, credited_amount=Decimal("10000"))
    assert judge_credit_note(credit_note(), sale, RATES).original_invoice_no == 41


def test_quantity_is_checked_before_value() -> None:
    sale = original(credited_quantity_by_item={ITEM: Decimal(5)}, credited_amount=Decimal("696.00"))
    verdict = judge_credit_note(credit_note(), sale, RATES)
    assert_problem(verdict, "CREDIT_NOTE_EXCEEDS_ORIGINAL", f"item {ITEM}")
