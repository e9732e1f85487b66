"""Line and invoice tax arithmetic for saveTrnsSalesOsdc.

Convention (the one Odoo's OSCU module uses): unit prices are VAT-exclusive.
  splyAmt = qty × prc;  dcAmt = splyAmt × dcRt / 100;  taxblAmt = splyAmt − dcAmt;
  taxAmt = taxblAmt × rate / 100;  line totAmt = taxblAmt + taxAmt   (each rounded half-up to 2 places)
Band totals are sums of the rounded line amounts; the invoice totals are sums of the bands.
Rates come from the eTIMS code list (class 04) at run time, never from constants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from etims_pipeline.etims.codes import TAX_BANDS
from etims_pipeline.etims.money import HUNDRED, money

ZERO = Decimal("0.00")


class UnknownTaxBandError(ValueError):
    pass


@dataclass(frozen=True)
class TaxRates:
    """Percent rate per band, e.g. {"A": 0, "B": 16, ...}, as read from the code list."""

    by_band: Mapping[str, Decimal]

    def rate(self, band: str) -> Decimal:
        try:
            return self.by_band[band]
        except KeyError:
            raise UnknownTaxBandError(
                f"tax band {band!r} is not in the eTIMS code list (known: {', '.join(sorted(self.by_band))})"
            ) from None

    def missing_bands(self) -> list[str]:
        return [band for band in TAX_BANDS if band not in self.by_band]


@dataclass(frozen=True)
class LineAmounts:
    supply: Decimal
    discount: Decimal
    taxable: Decimal
    tax: Decimal
    total: Decimal


def line_amounts(quantity: Decimal, unit_price: Decimal, discount_rate: Decimal, tax_rate: Decimal) -> LineAmounts:
    supply = money(quantity * unit_price)
    discount = money(supply * discount_rate / HUNDRED)
    taxable = supply - discount
    tax = money(taxable * tax_rate / HUNDRED)
    return LineAmounts(supply=supply, discount=discount, taxable=taxable, tax=tax, total=taxable + tax)


@dataclass(frozen=True)
class InvoiceTotals:
    taxable_by_band: dict[str, Decimal]
    tax_by_band: dict[str, Decimal]
    rate_by_band: dict[str, Decimal]
    total_taxable: Decimal
    total_tax: Decimal
    total_amount: Decimal


def invoice_totals(lines: Iterable[tuple[str, LineAmounts]], rates: TaxRates) -> InvoiceTotals:
    """Sum (band, amounts) pairs into the 15 band fields and the three totals."""
    taxable = dict.fromkeys(TAX_BANDS, ZERO)
    tax = dict.fromkeys(TAX_BANDS, ZERO)
    for band, amounts in lines:
        taxable[band] += amounts.taxable
        tax[band] += amounts.tax
    total_taxable = sum(taxable.values(), ZERO)
    total_tax = sum(tax.values(), ZERO)
    return InvoiceTotals(
        taxable_by_band=taxable,
        tax_by_band=tax,
        rate_by_band={band: money(rates.by_band.get(band, ZERO)) for band in TAX_BANDS},
        total_taxable=total_taxable,
        total_tax=total_tax,
        total_amount=total_taxable + total_tax,
    )
