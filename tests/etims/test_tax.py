"""Line and invoice tax arithmetic: VAT-exclusive prices, half-up per line, bands summed from rounded lines."""

from __future__ import annotations

from decimal import Decimal

import pytest

from etims_pipeline.etims.codes import TAX_BANDS
from etims_pipeline.etims.tax import LineAmounts, TaxRates, UnknownTaxBandError, invoice_totals, line_amounts
from tests.etims.etims_support import RATES, make_doc, make_line


def amounts(*values: str) -> LineAmounts:
    supply, discount, taxable, tax, total = (Decimal(v) for v in values)
    return LineAmounts(supply=supply, discount=discount, taxable=taxable, tax=tax, total=total)


def as_text(line: LineAmounts) -> tuple[str, ...]:
    return (str(line.supply), str(line.discount), str(line.taxable), str(line.tax), str(line.total))


@pytest.mark.parametrize(
    ("band", "qty", "price", "discount", "expected"),
    [
        # 3 x 33.33 = 99.99; 10 % = 9.999 -> 10.00; taxable 89.99; 16 % = 14.3984 -> 14.40; total 104.39
        ("B", "3", "33.33", "10", ("99.99", "10.00", "89.99", "14.40", "104.39")),
        ("B", "1", "1000", "0", ("1000.00", "0.00", "1000.00", "160.00", "1160.00")),
        # 2 x 49.99 = 99.98; 8 % = 7.9984 -> 8.00
        ("E", "2", "49.99", "0", ("99.98", "0.00", "99.98", "8.00", "107.98")),
        # 1.5 x 120.10 = 180.15; 5 % = 9.0075 -> 9.01; taxable 171.14; 8 % = 13.6912 -> 13.69
        ("E", "1.5", "120.10", "5", ("180.15", "9.01", "171.14", "13.69", "184.83")),
        ("A", "3", "33.33", "10", ("99.99", "10.00", "89.99", "0.00", "89.99")),
        ("C", "3", "33.33", "10", ("99.99", "10.00", "89.99", "0.00", "89.99")),
        ("D", "3", "33.33", "10", ("99.99", "10.00", "89.99", "0.00", "89.99")),
        ("B", "1", "0", "0", ("0.00", "0.00", "0.00", "0.00", "0.00")),
        ("B", "4", "25", "100", ("100.00", "100.00", "0.00", "0.00", "0.00")),
    ],
)
def test_line_amounts_per_band(
    band: str, qty: str, price: str, discount: str, expected: tuple[str, str, str, str, str]
) -> None:
    line = make_line(quantity=Decimal(qty), unit_price=Decimal(price), discount_rate=Decimal(discount), tax_band=band)
    assert as_text(line.amounts(RATES)) == expected


@pytest.mark.parametrize(
    ("qty", "price", "discount", "rate", "expected"),
    [
        # supply 0.5 x 4.05 = 2.025 -> 2.03 (half-even would keep 2.02)
        ("0.5", "4.05", "0", "0", ("2.03", "0.00", "2.03", "0.00", "2.03")),
        # supply 1.5 x 0.33 = 0.495 -> 0.50
        ("1.5", "0.33", "0", "0", ("0.50", "0.00", "0.50", "0.00", "0.50")),
        # discount 50 % of 10.05 = 5.025 -> 5.03, leaving 5.02
        ("1", "10.05", "50", "0", ("10.05", "5.03", "5.02", "0.00", "5.02")),
        # tax 10 % of 0.05 = 0.005 -> 0.01
        ("1", "0.05", "0", "10", ("0.05", "0.00", "0.05", "0.01", "0.06")),
        # tax 16 % of 0.03 = 0.0048 -> 0.00 and of 0.04 = 0.0064 -> 0.01
        ("1", "0.03", "0", "16", ("0.03", "0.00", "0.03", "0.00", "0.03")),
        ("1", "0.04", "0", "16", ("0.04", "0.00", "0.04", "0.01", "0.05")),
    ],
)
def test_line_amounts_round_half_up_at_each_step(
    qty: str, price: str, discount: str, rate: str, expected: tuple[str, str, str, str, str]
) -> None:
    line = line_amounts(Decimal(qty), Decimal(price), Decimal(discount), Decimal(rate))
    assert as_text(line) == expected


def test_line_amounts_are_internally_consistent() -> None:
    for qty in ("1", "2.5", "3", "7.25"):
        for price in ("0.01", "33.33", "99.95", "1234.56"):
            for discount in ("0", "7.5", "10", "33.33"):
                line = line_amounts(Decimal(qty), Decimal(price), Decimal(discount), Decimal(16))
                assert line.taxable == line.supply - line.discount
                assert line.total == line.taxable + line.tax
                for value in (line.supply, line.discount, line.taxable, line.tax, line.total):
                    assert value.as_tuple().exponent == -2


def test_band_totals_are_sums_of_rounded_line_amounts() -> None:
    # Each line's 16 % of 0.03 rounds to 0.00; taxing the band's 0.09 at once would give 0.01.
    tiny = make_line(quantity=Decimal(1), unit_price=Decimal("0.03"), tax_band="B")
    totals = make_doc(tiny, tiny, tiny).totals(RATES)
    assert totals.taxable_by_band["B"] == Decimal("0.09")
    assert totals.tax_by_band["B"] == Decimal("0.00")
    assert totals.total_amount == Decimal("0.09")


def test_invoice_totals_for_a_mixed_invoice() -> None:
    doc = make_doc(
        make_line(quantity=Decimal(3), unit_price=Decimal("33.33"), discount_rate=Decimal(10), tax_band="B"),
        make_line(quantity=Decimal(2), unit_price=Decimal("49.99"), tax_band="E"),
        make_line(quantity=Decimal(1), unit_price=Decimal("50.00"), tax_band="A"),
        make_line(quantity=Decimal(1), unit_price=Decimal("10.01"), tax_band="B"),
    )
    totals = doc.totals(RATES)
    # B: 89.99 + 10.01 = 100.00 taxable; 14.40 + 1.60 (1.6016) = 16.00 tax
    assert totals.taxable_by_band == {
        "A": Decimal("50.00"),
        "B": Decimal("100.00"),
        "C": Decimal("0.00"),
        "D": Decimal("0.00"),
        "E": Decimal("99.98"),
    }
    assert totals.tax_by_band == {
        "A": Decimal("0.00"),
        "B": Decimal("16.00"),
        "C": Decimal("0.00"),
        "D": Decimal("0.00"),
        "E": Decimal("8.00"),
    }
    assert totals.total_taxable == Decimal("249.98")
    assert totals.total_tax == Decimal("24.00")
    assert totals.total_amount == Decimal("273.98")


def test_all_five_bands_are_present_even_when_unused() -> None:
    totals = make_doc(make_line(tax_band="E")).totals(RATES)
    for mapping in (totals.taxable_by_band, totals.tax_by_band, totals.rate_by_band):
        assert list(mapping) == list(TAX_BANDS)
    for band in ("A", "B", "C", "D"):
        assert totals.taxable_by_band[band] == 0
        assert totals.tax_by_band[band] == 0


def test_band_rates_come_from_the_given_rates_as_two_place_decimals() -> None:
    rates = TaxRates({"A": Decimal(0), "B": Decimal("18"), "C": Decimal(0), "D": Decimal(0), "E": Decimal("10.5")})
    totals = invoice_totals([], rates)
    assert {band: str(rate) for band, rate in totals.rate_by_band.items()} == {
        "A": "0.00",
        "B": "18.00",
        "C": "0.00",
        "D": "0.00",
        "E": "10.50",
    }
    assert totals.total_amount == 0


def test_rates_from_the_code_list_drive_the_tax() -> None:
    rates = TaxRates({**RATES.by_band, "B": Decimal(18)})
    line = make_line(quantity=Decimal(1), unit_price=Decimal(100), tax_band="B")
    assert line.amounts(rates).tax == Decimal("18.00")
    assert line.amounts(RATES).tax == Decimal("16.00")


def test_a_band_missing_from_the_rates_gets_rate_zero_in_totals() -> None:
    rates = TaxRates({"B": Decimal(16)})
    totals = invoice_totals([("B", line_amounts(Decimal(1), Decimal(10), Decimal(0), Decimal(16)))], rates)
    assert totals.rate_by_band["E"] == Decimal("0.00")
    assert totals.rate_by_band["B"] == Decimal("16.00")
    assert rates.missing_bands() == ["A", "C", "D", "E"]
    assert RATES.missing_bands() == []


@pytest.mark.parametrize("band", ["F", "b", "", "E"])
def test_unknown_band_raises_naming_the_band_and_known_bands(band: str) -> None:
    rates = TaxRates({"A": Decimal(0), "B": Decimal(16)})
    with pytest.raises(UnknownTaxBandError, match=rf"tax band {band!r} is not in the eTIMS code list \(known: A, B\)"):
        rates.rate(band)
