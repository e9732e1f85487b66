"""Pre-submission checks: every problem code from a minimal bad document, nothing for a good one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from etims_pipeline.etims.tax import TaxRates
from etims_pipeline.etims.validation import Problem, document_problems
from tests.etims.etims_support import RATES, make_credit_note, make_doc, make_line


def codes(problems: list[Problem]) -> list[str]:
    return [problem.code for problem in problems]


def test_a_valid_sale_has_no_problems() -> None:
    assert document_problems(make_doc(), RATES) == []


def test_a_valid_credit_note_has_no_problems() -> None:
    assert document_problems(make_credit_note(), RATES) == []


@pytest.mark.parametrize(
    "changes",
    [
        {"customer_pin": None},
        {"customer_pin": ""},
        {"customer_pin": "p051365947m"},  # accepted: the PIN check normalises case
        {"customer_name": None},
        {"customer_name": "x" * 60},
        {"remark": "x" * 400},
        {"trader_invoice_no": "x" * 50},
        {"payment_type": "07"},
    ],
)
def test_header_values_at_the_edge_are_accepted(changes: dict[str, Any]) -> None:
    assert document_problems(make_doc(**changes), RATES) == []


@pytest.mark.parametrize(
    "changes",
    [
        {"item_name": "x" * 200},
        {"quantity": Decimal("0.01")},
        {"unit_price": Decimal(0)},
        {"discount_rate": Decimal(100)},
        {"discount_rate": Decimal("12.5")},
        {"item_class_code": "50596908"},
        {"packaging_unit": "BA"},
        {"quantity_unit": "KG"},
        {"tax_band": "E"},
    ],
)
def test_line_values_at_the_edge_are_accepted(changes: dict[str, Any]) -> None:
    assert document_problems(make_doc(make_line(**changes)), RATES) == []


@pytest.mark.parametrize(
    ("changes", "code", "fragment"),
    [
        ({"trader_invoice_no": ""}, "INVOICE_BAD_NUMBER", "1-50 characters"),
        ({"trader_invoice_no": "   "}, "INVOICE_BAD_NUMBER", "1-50 characters"),
        ({"trader_invoice_no": "x" * 51}, "INVOICE_BAD_NUMBER", "1-50 characters"),
        ({"receipt_type": "P"}, "INVOICE_BAD_RECEIPT_TYPE", "'P' must be S (sale) or R (credit note)"),
        ({"receipt_type": "s"}, "INVOICE_BAD_RECEIPT_TYPE", "'s'"),
        ({"payment_type": "08"}, "INVOICE_BAD_PAYMENT_TYPE", "'08' must be one of 01-07"),
        ({"payment_type": "1"}, "INVOICE_BAD_PAYMENT_TYPE", "'1'"),
        ({"customer_pin": "B12345"}, "INVOICE_BAD_CUSTOMER_PIN", "customer KRA PIN 'B12345' has 6 characters"),
        ({"customer_pin": "K051365947M"}, "INVOICE_BAD_CUSTOMER_PIN", "must start with A (individual) or P"),
        ({"customer_name": "x" * 61}, "INVOICE_BAD_CUSTOMER_NAME", "over 60 characters"),
        ({"remark": "x" * 401}, "INVOICE_BAD_REMARK", "over 400 characters"),
        ({"lines": ()}, "INVOICE_NO_LINES", "invoice has no lines"),
    ],
)
def test_header_problems(changes: dict[str, Any], code: str, fragment: str) -> None:
    problems = document_problems(make_doc(**changes), RATES)
    assert codes(problems) == [code]
    assert fragment in problems[0].message


@pytest.mark.parametrize(
    ("reason", "fragment"),
    [(None, "None must be one of 01-06"), ("07", "'07' must be one of 01-06"), ("", "''"), ("6", "'6'")],
)
def test_credit_note_needs_a_known_reason(reason: str | None, fragment: str) -> None:
    problems = document_problems(make_credit_note(refund_reason=reason), RATES)
    assert codes(problems) == ["CREDIT_NOTE_BAD_REASON"]
    assert fragment in problems[0].message


@pytest.mark.parametrize("reason", ["01", "02", "03", "04", "05", "06"])
def test_every_documented_credit_note_reason_is_accepted(reason: str) -> None:
    assert document_problems(make_credit_note(refund_reason=reason), RATES) == []


def test_a_sale_does_not_need_a_refund_reason() -> None:
    assert document_problems(make_doc(refund_reason=None), RATES) == []


@pytest.mark.parametrize(
    ("changes", "code", "fragment"),
    [
        ({"item_code": "widget-1"}, "INVOICE_BAD_ITEM_CODE", "'widget-1' is not a KRA item code"),
        ({"item_code": "KE1NTXU000001"}, "INVOICE_BAD_ITEM_CODE", "KE1NTXU000001"),
        ({"item_code": "KE4NTXU0000001"}, "INVOICE_BAD_ITEM_CODE", "KE4NTXU0000001"),
        ({"item_code": "ke1ntxu0000001"}, "INVOICE_BAD_ITEM_CODE", "ke1ntxu0000001"),
        ({"item_class_code": "1234567"}, "INVOICE_BAD_ITEM_CLASS", "'1234567' must be 8-10 digits"),
        ({"item_class_code": "50596908AB"}, "INVOICE_BAD_ITEM_CLASS", "must be 8-10 digits"),
        ({"item_class_code": "12345678901"}, "INVOICE_BAD_ITEM_CLASS", "must be 8-10 digits"),
        ({"item_name": ""}, "INVOICE_BAD_ITEM_NAME", "1-200 characters"),
        ({"item_name": "   "}, "INVOICE_BAD_ITEM_NAME", "1-200 characters"),
        ({"item_name": "x" * 201}, "INVOICE_BAD_ITEM_NAME", "1-200 characters"),
        ({"packaging_unit": "nt"}, "INVOICE_BAD_UNIT", "packaging unit 'nt' is not an eTIMS unit code"),
        ({"packaging_unit": ""}, "INVOICE_BAD_UNIT", "packaging unit ''"),
        ({"quantity_unit": "TOOLONG"}, "INVOICE_BAD_UNIT", "quantity unit 'TOOLONG'"),
        ({"quantity": Decimal(0)}, "INVOICE_BAD_QUANTITY", "quantity 0 must be positive"),
        ({"quantity": Decimal(-1)}, "INVOICE_BAD_QUANTITY", "quantity -1"),
        ({"quantity": Decimal("1.234")}, "INVOICE_BAD_QUANTITY", "2 decimals at most"),
        ({"unit_price": Decimal("-0.01")}, "INVOICE_BAD_PRICE", "unit price -0.01 must be >= 0"),
        ({"unit_price": Decimal("1.005")}, "INVOICE_BAD_PRICE", "2 decimals at most"),
        ({"discount_rate": Decimal(-1)}, "INVOICE_BAD_DISCOUNT", "discount rate -1 must be 0-100 percent"),
        ({"discount_rate": Decimal("100.01")}, "INVOICE_BAD_DISCOUNT", "100.01"),
        ({"discount_rate": Decimal("10.125")}, "INVOICE_BAD_DISCOUNT", "10.125"),
        ({"tax_band": "F"}, "INVOICE_BAD_TAX_BAND", "'F' is not one of A, B, C, D, E"),
        ({"tax_band": "b"}, "INVOICE_BAD_TAX_BAND", "'b' is not one of A, B, C, D, E"),
    ],
)
def test_line_problems_name_the_line(changes: dict[str, Any], code: str, fragment: str) -> None:
    doc = make_doc(make_line(), make_line(**changes))
    problems = document_problems(doc, RATES)
    assert codes(problems) == [code]
    assert problems[0].message.startswith("line 2: ")
    assert fragment in problems[0].message


def test_band_missing_from_the_code_list_is_reported() -> None:
    rates = TaxRates({band: rate for band, rate in RATES.by_band.items() if band != "E"})
    problems = document_problems(make_doc(make_line(tax_band="E")), rates)
    assert codes(problems) == ["INVOICE_BAD_TAX_BAND"]
    assert problems[0].message == "line 1: tax band 'E' is missing from the eTIMS code list"


def test_all_problems_are_reported_not_just_the_first() -> None:
    doc = make_doc(
        make_line(item_code="bad"),
        make_line(quantity=Decimal(0), tax_band="Z"),
        payment_type="99",
    )
    problems = document_problems(doc, RATES)
    assert codes(problems) == [
        "INVOICE_BAD_PAYMENT_TYPE",
        "INVOICE_BAD_ITEM_CODE",
        "INVOICE_BAD_QUANTITY",
        "INVOICE_BAD_TAX_BAND",
    ]
    assert [p.message.split(":")[0] for p in problems[1:]] == ["line 1", "line 2", "line 2"]


EXAMPLE_LINE = {"quantity": Decimal(3), "unit_price": Decimal("33.33"), "discount_rate": Decimal(10)}


@pytest.mark.parametrize("declared", ["104.39", "104.390"])
def test_declared_total_matching_the_lines_is_accepted(declared: str) -> None:
    doc = make_doc(make_line(**EXAMPLE_LINE), declared_total=Decimal(declared))
    assert document_problems(doc, RATES) == []


@pytest.mark.parametrize("declared", ["104.38", "104.40", "104.3984", "89.99"])
def test_declared_total_mismatch_is_reported(declared: str) -> None:
    doc = make_doc(make_line(**EXAMPLE_LINE), declared_total=Decimal(declared))
    problems = document_problems(doc, RATES)
    assert codes(problems) == ["INVOICE_TOTALS_MISMATCH"]
    assert f"declared total {declared} differs from the lines' total 104.39" in problems[0].message


@pytest.mark.parametrize(
    ("doc_changes", "line_changes", "code"),
    [
        ({"payment_type": "99"}, {}, "INVOICE_BAD_PAYMENT_TYPE"),
        ({}, {"tax_band": "F"}, "INVOICE_BAD_TAX_BAND"),
        ({}, {"quantity": Decimal("0.001")}, "INVOICE_BAD_QUANTITY"),
    ],
)
def test_declared_total_is_only_checked_when_the_rest_is_valid(
    doc_changes: dict[str, Any], line_changes: dict[str, Any], code: str
) -> None:
    doc = make_doc(make_line(**line_changes), declared_total=Decimal("0.01"), **doc_changes)
    assert codes(document_problems(doc, RATES)) == [code]


def test_problem_str_is_code_and_message() -> None:
    assert str(Problem("INVOICE_NO_LINES", "invoice has no lines")) == "INVOICE_NO_LINES: invoice has no lines"
