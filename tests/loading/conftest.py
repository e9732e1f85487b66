"""Helpers for the loader tests: write rows as JSON Lines, and typical org and invoice rows."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

Row = dict[str, Any]
WriteRows = Callable[[str, Sequence[Row | str]], Path]


def org_row(org_id: int = 42, **changes: Any) -> Row:
    row: Row = {
        "id": org_id,
        "name": f"Org {org_id} Ltd",
        "kra_pin": "P051365947M",
        "tax_status": "VERIFIED",
        "bhf_id": "00",
        "device_serial": f"DVC-{org_id:04d}-01",
    }
    return row | changes


def line_row(**changes: Any) -> Row:
    row: Row = {
        "item_code": "KE1NTXU0000001",
        "item_class_code": "5059690800",
        "item_name": "Bar soap 800g",
        "quantity": 2,
        "unit_price": 1234.56,
        "discount_rate": 10,
        "tax_band": "B",
        "packaging_unit": "NT",
        "quantity_unit": "U",
    }
    return row | changes


def invoice_row(number: str = "INV-0001", org_id: int = 42, **changes: Any) -> Row:
    row: Row = {
        "org_id": org_id,
        "trader_invoice_no": number,
        "issued_at": "2026-11-23T14:05:00+03:00",
        "payment_type": "01",
        "receipt_type": "S",
        "lines": [line_row(), line_row(item_code="KE1NTXU0000002", tax_band="A", discount_rate=0)],
    }
    return row | changes


def credit_note_row(number: str, original: str, org_id: int = 42, **changes: Any) -> Row:
    return invoice_row(
        number,
        org_id,
        receipt_type="R",
        original_trader_invoice_no=original,
        refund_reason="06",
        issued_at="2026-11-23T16:00:00+03:00",
        **changes,
    )


def _decimal_marker(value: object) -> str:
    if isinstance(value, Decimal):
        return f"@decimal:{value}@"
    raise TypeError(f"cannot write {value!r} as JSON")


def to_json(row: Row) -> str:
    """The row as one JSON line; Decimals become JSON numbers written exactly as their text."""
    return re.sub(r'"@decimal:([^@]*)@"', r"\1", json.dumps(row, default=_decimal_marker))


@pytest.fixture
def write_rows(tmp_path: Path) -> WriteRows:
    """Write rows (dicts as JSON, strings verbatim) to tmp_path/name, one per line."""

    def write(name: str, rows: Sequence[Row | str]) -> Path:
        path = tmp_path / name
        lines = [row if isinstance(row, str) else to_json(row) for row in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write
