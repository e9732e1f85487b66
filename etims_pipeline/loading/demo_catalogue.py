"""The fixed ingredients of the demo data: items per tax band, org names and the org profiles cycle."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from etims_pipeline.store.models import TaxStatus


@dataclass(frozen=True)
class Item:
    code: str
    class_code: str
    name: str
    unit_price: Decimal
    tax_band: str
    packaging_unit: str
    quantity_unit: str
    weight: int  # how often it sells, relative to the others


ITEMS = (
    Item("KE1NTXU0000001", "5059690800", "Bar soap 800g", Decimal("185.00"), "B", "NT", "U", 10),
    Item("KE1NTXU0000002", "5020220500", "Soda 500ml", Decimal("60.00"), "B", "NT", "U", 12),
    Item("KE2BXXU0000003", "4322150000", "USB flash drive 32GB", Decimal("1234.56"), "B", "BX", "U", 4),
    Item("KE1BGKG0000004", "5010150100", "Rice 5kg", Decimal("820.50"), "B", "BG", "KG", 8),
    Item("KE1CTXU0000005", "5313150000", "Toothpaste 100ml", Decimal("145.00"), "B", "CT", "U", 8),
    Item("KE1NTXU0000006", "5019150300", "Cooking oil 1L", Decimal("399.99"), "B", "NT", "U", 10),
    Item("KE1NTXU0000007", "5011150400", "Fresh milk 500ml", Decimal("65.00"), "A", "NT", "U", 6),
    Item("KE1NTKG0000008", "5012150000", "Maize grain", Decimal("52.00"), "A", "NT", "KG", 4),
    Item("KE1CTXU0000009", "1411150700", "Exercise book 96 pages", Decimal("55.00"), "C", "CT", "U", 5),
    Item("KE3NTXU0000010", "8011150000", "Delivery service", Decimal("300.00"), "D", "NT", "U", 4),
    Item("KE1NTLT0000011", "1510150100", "Diesel", Decimal("171.60"), "E", "NT", "LTR", 6),
)
ITEM_WEIGHTS = tuple(item.weight for item in ITEMS)
# One line of each band: the first invoice of the demo shows every band.
ONE_PER_BAND = tuple(next(item for item in ITEMS if item.tax_band == band) for band in "ABCDE")

DISCOUNT_RATES = (Decimal(0),) * 6 + (Decimal(5), Decimal(10), Decimal("12.5"))
PAYMENT_TYPES = ("01", "02", "04", "05", "06")
PAYMENT_WEIGHTS = (30, 10, 5, 15, 40)
CUSTOMER_NAMES = ("Wanjiku Kamau", "Otieno Ochieng", "Akinyi Achieng", "Mwangi Njoroge", "Chebet Kiprop")

NAME_FIRST = ("Baraka", "Jambo", "Amani", "Zawadi", "Neema", "Tumaini", "Upendo", "Imani", "Faraja", "Pendo")
NAME_TRADE = ("Traders", "Supplies", "Hardware", "Foods", "Electronics", "Pharmacy", "Agrovet")


class PinKind(StrEnum):
    VALID = "valid"
    WRONG_LENGTH = "wrong_length"
    WRONG_LETTER = "wrong_letter"
    MISSING = "missing"


# Org i takes PROFILES[i % 12]: mostly VERIFIED, every other status, and VERIFIED orgs with bad PINs.
PROFILES: tuple[tuple[TaxStatus, PinKind], ...] = (
    (TaxStatus.VERIFIED, PinKind.VALID),
    (TaxStatus.VERIFIED, PinKind.VALID),
    (TaxStatus.PENDING, PinKind.VALID),
    (TaxStatus.VERIFIED, PinKind.WRONG_LENGTH),
    (TaxStatus.VERIFIED, PinKind.VALID),
    (TaxStatus.UNVERIFIED, PinKind.MISSING),
    (TaxStatus.VERIFIED, PinKind.WRONG_LETTER),
    (TaxStatus.VERIFIED, PinKind.VALID),
    (TaxStatus.SUSPENDED, PinKind.VALID),
    (TaxStatus.VERIFIED, PinKind.MISSING),
    (TaxStatus.VERIFIED, PinKind.VALID),
    (TaxStatus.VERIFIED, PinKind.VALID),
)
