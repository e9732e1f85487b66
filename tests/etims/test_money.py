"""Decimal money: parsing without float, half-up to cents, exact JSON numbers."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from etims_pipeline.etims.money import has_at_most_2_places, json_number, money, to_decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, Decimal(3)),
        ("12.30", Decimal("12.30")),
        (" 7.5 ", Decimal("7.5")),
        (0.1, Decimal("0.1")),  # via str(), so no binary-float tail
        (Decimal("99.99"), Decimal("99.99")),
    ],
)
def test_to_decimal_parses_without_float_error(value: object, expected: Decimal) -> None:
    parsed = to_decimal(value, "qty")
    assert parsed == expected
    assert str(parsed) == str(expected)


@pytest.mark.parametrize("value", [True, False, None, "abc", "", [1], "1,5"])
def test_to_decimal_rejects_non_numbers_naming_the_field(value: object) -> None:
    with pytest.raises(ValueError, match=r"^unit_price must be a number"):
        to_decimal(value, "unit_price")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", float("nan"), float("inf")])
def test_to_decimal_rejects_non_finite(value: object) -> None:
    with pytest.raises(ValueError, match="prc must be a finite number"):
        to_decimal(value, "prc")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("0.015", "0.02"),
        ("0.025", "0.03"),  # half-even would give 0.02
        ("2.025", "2.03"),
        ("9.999", "10.00"),
        ("14.3984", "14.40"),
        ("0.0049", "0.00"),
        ("1", "1.00"),
        ("-0.005", "-0.01"),
    ],
)
def test_money_rounds_half_up_to_cents(value: str, expected: str) -> None:
    assert str(money(Decimal(value))) == expected


@pytest.mark.parametrize(
    ("value", "ok"),
    [("1", True), ("1.5", True), ("1.50", True), ("1.500", True), ("1.505", False), ("0.001", False)],
)
def test_has_at_most_2_places(value: str, ok: bool) -> None:
    assert has_at_most_2_places(Decimal(value)) is ok


@pytest.mark.parametrize(("value", "expected"), [("16.00", 16), ("0.00", 0), ("0", 0), ("1000", 1000)])
def test_json_number_gives_ints_for_integral_values(value: str, expected: int) -> None:
    number = json_number(Decimal(value))
    assert type(number) is int
    assert number == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("1234.56", "1234.56"),
        ("104.39", "104.39"),
        ("14.40", "14.4"),
        ("0.10", "0.1"),
        ("0.01", "0.01"),
        ("89.99", "89.99"),
        ("9999999999999.99", "9999999999999.99"),
    ],
)
def test_json_number_serialises_exactly(value: str, text: str) -> None:
    dumped = json.dumps(json_number(Decimal(value)))
    assert dumped == text
    assert Decimal(dumped) == Decimal(value)


def test_every_cent_amount_round_trips_through_json() -> None:
    for cents in [*range(0, 100_000, 7), *range(10**12 - 5_000, 10**12, 3)]:
        amount = Decimal(cents).scaleb(-2)
        assert Decimal(json.dumps(json_number(amount))) == amount, amount
