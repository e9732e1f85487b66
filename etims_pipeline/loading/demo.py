"""`demo-data`: a deterministic demo data set (same arguments → byte-identical files).

It exercises every path of the pipeline: orgs of every tax status, VERIFIED orgs whose KRA PIN is bad,
multi-line sales over bands A-E with discounts, credit notes against earlier sales, and three malformed
invoices that load but fail validation (a bad customer PIN, tax band "F", a declared total without VAT).
"""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from etims_pipeline.etims.codes import CREDIT_NOTE_REASONS, RECEIPT_CREDIT_NOTE, RECEIPT_SALE
from etims_pipeline.etims.money import json_number
from etims_pipeline.loading.demo_catalogue import (
    CUSTOMER_NAMES,
    DISCOUNT_RATES,
    ITEM_WEIGHTS,
    ITEMS,
    NAME_FIRST,
    NAME_TRADE,
    ONE_PER_BAND,
    PAYMENT_TYPES,
    PAYMENT_WEIGHTS,
    PROFILES,
    Item,
    PinKind,
)
from etims_pipeline.nairobi_time import day_start_utc, nairobi_days, to_nairobi

DEFAULT_ORGS = 12
DEFAULT_DAYS = 7
DEFAULT_SEED = 2026
OPENING_MINUTE = 8 * 60  # Nairobi business hours, 08:00-18:00
CLOSING_MINUTE = 18 * 60
Row = dict[str, Any]


@dataclass(frozen=True)
class DemoFiles:
    orgs_path: Path
    invoices_path: Path
    org_count: int
    invoice_count: int


@dataclass
class _OrgBook:
    """One org's invoices so far: its number counter and the sales a credit note may credit."""

    org_id: int
    last_number: int = 0
    sales: list[Row] = field(default_factory=list)

    def next_number(self, prefix: str) -> str:
        self.last_number += 1
        return f"{prefix}-{self.last_number:06d}"


def _pin(rng: random.Random, prefix: str) -> str:
    return f"{prefix}{rng.randrange(10**9):09d}{rng.choice(string.ascii_uppercase)}"


def _org(rng: random.Random, index: int) -> Row:
    org_id = index + 1
    status, pin_kind = PROFILES[index % len(PROFILES)]
    valid_pin = _pin(rng, "P")
    pins = {
        PinKind.VALID: valid_pin,
        PinKind.WRONG_LENGTH: valid_pin[:-1],
        PinKind.WRONG_LETTER: "X" + valid_pin[1:],
        PinKind.MISSING: None,
    }
    name = f"{NAME_FIRST[index % len(NAME_FIRST)]} {NAME_TRADE[index % len(NAME_TRADE)]} Ltd"
    return {
        "id": org_id,
        "name": name,
        "kra_pin": pins[pin_kind],
        "tax_status": status.value,
        "bhf_id": "00",
        "device_serial": f"DVC-{org_id:04d}-01",
    }


def _line(item: Item, quantity: Decimal, discount_rate: Decimal) -> Row:
    return {
        "item_code": item.code,
        "item_class_code": item.class_code,
        "item_name": item.name,
        "quantity": json_number(quantity),
        "unit_price": json_number(item.unit_price),
        "discount_rate": json_number(discount_rate),
        "tax_band": item.tax_band,
        "packaging_unit": item.packaging_unit,
        "quantity_unit": item.quantity_unit,
    }


def _random_line(rng: random.Random, item: Item) -> Row:
    quantity = Decimal(rng.randint(1, 10))
    if item.quantity_unit != "U":
        quantity += Decimal(rng.choice((0, 25, 50, 75))) / 100
    return _line(item, quantity, rng.choice(DISCOUNT_RATES))


def _issued_at(day: date, minute: int) -> str:
    return to_nairobi(day_start_utc(day) + timedelta(minutes=minute)).isoformat()


def _sale(rng: random.Random, book: _OrgBook, day: date, minute: int, items: tuple[Item, ...]) -> Row:
    row: Row = {
        "org_id": book.org_id,
        "trader_invoice_no": book.next_number("INV"),
        "issued_at": _issued_at(day, minute),
        "payment_type": rng.choices(PAYMENT_TYPES, PAYMENT_WEIGHTS)[0],
        "receipt_type": RECEIPT_SALE,
        "lines": [_random_line(rng, item) for item in items],
    }
    if rng.random() < 0.3:
        row["customer_pin"] = _pin(rng, "A")
        row["customer_name"] = rng.choice(CUSTOMER_NAMES)
    book.sales.append(row)
    return row


def _credit_note(rng: random.Random, book: _OrgBook, day: date, minute: int) -> Row:
    original = rng.choice(book.sales)
    return {
        "org_id": book.org_id,
        "trader_invoice_no": book.next_number("CRN"),
        "issued_at": _issued_at(day, minute),
        "payment_type": original["payment_type"],
        "receipt_type": RECEIPT_CREDIT_NOTE,
        "original_trader_invoice_no": original["trader_invoice_no"],
        "refund_reason": rng.choice(sorted(CREDIT_NOTE_REASONS)),
        "lines": original["lines"][:1],
    }


def _org_day(rng: random.Random, book: _OrgBook, day: date, showcase: bool) -> list[Row]:
    """One org's invoices of one day in time order; the showcase org-day also has a credit note."""
    count = rng.randint(3, 9)
    minutes = sorted(rng.sample(range(OPENING_MINUTE, CLOSING_MINUTE - 30), count))
    rows = []
    for position, minute in enumerate(minutes):
        if showcase and position == 0 and len(book.sales) == 0:
            items = ONE_PER_BAND
        else:
            items = tuple(rng.choices(ITEMS, ITEM_WEIGHTS, k=rng.randint(1, 4)))
        rows.append(_sale(rng, book, day, minute, items))
    if showcase or rng.random() < 0.25:
        rows.append(_credit_note(rng, book, day, rng.randint(minutes[-1] + 1, CLOSING_MINUTE)))
    return rows


def _malformed(rng: random.Random, book: _OrgBook, day: date) -> list[Row]:
    """Three invoices that load but fail validation: bad customer PIN, band "F", total without VAT."""
    soap, oil = ITEMS[0], ITEMS[5]
    bad_pin = _sale(rng, book, day, CLOSING_MINUTE - 20, (soap,))
    bad_pin.update(customer_pin="B12345", customer_name="Typo Customer", remark="demo: bad customer PIN")
    bad_band = _sale(rng, book, day, CLOSING_MINUTE - 15, (soap,))
    bad_band["lines"][0]["tax_band"] = "F"
    bad_band["remark"] = "demo: unknown tax band F"
    no_vat = _sale(rng, book, day, CLOSING_MINUTE - 10, (oil,))
    no_vat["lines"] = [_line(oil, Decimal(1), Decimal(0))]
    no_vat.update(total_amount=json_number(oil.unit_price), remark="demo: declared total leaves out the 16% VAT")
    return [bad_pin, bad_band, no_vat]


def _write_jsonl(path: Path, rows: list[Row]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def generate_demo_data(
    out_dir: Path,
    end_date: date,
    orgs: int = DEFAULT_ORGS,
    days: int = DEFAULT_DAYS,
    seed: int = DEFAULT_SEED,
) -> DemoFiles:
    """Write orgs.jsonl and invoices.jsonl for `orgs` orgs over the `days` Nairobi days ending `end_date`."""
    if orgs < 1 or days < 1:
        raise ValueError(f"demo data needs at least 1 org and 1 day, got orgs={orgs}, days={days}")
    rng = random.Random(seed)
    org_rows = [_org(rng, index) for index in range(orgs)]
    books = [_OrgBook(row["id"]) for row in org_rows]
    invoice_rows: list[Row] = []
    for day in nairobi_days(end_date - timedelta(days=days - 1), end_date):
        for book in books:
            invoice_rows.extend(_org_day(rng, book, day, showcase=book is books[0]))
    invoice_rows.extend(_malformed(rng, books[0], end_date))
    out_dir.mkdir(parents=True, exist_ok=True)
    files = DemoFiles(out_dir / "orgs.jsonl", out_dir / "invoices.jsonl", len(org_rows), len(invoice_rows))
    _write_jsonl(files.orgs_path, org_rows)
    _write_jsonl(files.invoices_path, invoice_rows)
    return files
