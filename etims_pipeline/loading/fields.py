"""Typed readers for the fields of one JSON row, checked against the store's column limits.

A value the store cannot keep faithfully (wrong JSON type, longer than its column, more decimals than the
column holds, a datetime without an offset) makes the row bad. A value that is merely wrong for eTIMS
(an unknown tax band, a malformed customer PIN, a negative quantity) passes: the submission step's
validation marks that invoice invalid with a specific code.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, String
from sqlalchemy.orm import QueryableAttribute

from etims_pipeline.nairobi_time import to_utc

ROW_NOT_JSON = "ROW_NOT_JSON"
ROW_NOT_OBJECT = "ROW_NOT_OBJECT"
ROW_MISSING_FIELD = "ROW_MISSING_FIELD"
ROW_BAD_TYPE = "ROW_BAD_TYPE"
ROW_BAD_VALUE = "ROW_BAD_VALUE"
ROW_TOO_LONG = "ROW_TOO_LONG"
ROW_BAD_NUMBER = "ROW_BAD_NUMBER"
ROW_BAD_DATETIME = "ROW_BAD_DATETIME"
ROW_NAIVE_DATETIME = "ROW_NAIVE_DATETIME"


class BadRow(Exception):
    """A row the loader skips; `code` is stable, `message` tells the operator what to fix."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _json_type(value: object) -> str:
    names = {bool: "boolean", int: "number", Decimal: "number", str: "string", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


class Fields:
    """One JSON object's fields; `prefix` names nested objects in messages (e.g. `lines[2].`)."""

    def __init__(self, row: Mapping[str, object], prefix: str = "") -> None:
        self._row = row
        self._prefix = prefix

    def _label(self, name: str) -> str:
        return f'"{self._prefix}{name}"'

    def _value(self, name: str, required: bool) -> object:
        value = self._row.get(name)
        if value is None and required:
            raise BadRow(ROW_MISSING_FIELD, f"{self._label(name)} is required")
        return value

    def _bad_type(self, name: str, expected: str, value: object) -> BadRow:
        return BadRow(ROW_BAD_TYPE, f"{self._label(name)} must be {expected}, got {_json_type(value)}")

    def integer(self, name: str) -> int:
        value = self._value(name, required=True)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._bad_type(name, "an integer", value)
        return value

    def text(self, name: str, column: QueryableAttribute[Any]) -> str:
        return self._string(name, self._value(name, required=True), column)

    def optional_text(self, name: str, column: QueryableAttribute[Any], default: str | None = None) -> str | None:
        value = self._value(name, required=False)
        return default if value is None else self._string(name, value, column)

    def _string(self, name: str, value: object, column: QueryableAttribute[Any]) -> str:
        if not isinstance(value, str):
            raise self._bad_type(name, "a string", value)
        column_type = column.expression.type
        limit = column_type.length if isinstance(column_type, String) else None
        if limit is not None and len(value) > limit:
            raise BadRow(ROW_TOO_LONG, f"{self._label(name)} is {len(value)} characters; the store keeps {limit}")
        return value

    def choice(self, name: str, column: QueryableAttribute[Any], allowed: tuple[str, ...]) -> str:
        value = self.text(name, column)
        if value not in allowed:
            raise BadRow(ROW_BAD_VALUE, f"{self._label(name)} is {value!r}; use one of {', '.join(allowed)}")
        return value

    def decimal(self, name: str, column: QueryableAttribute[Any], default: Decimal | None = None) -> Decimal:
        value = self._value(name, required=default is None)
        if value is None and default is not None:
            return default
        return self._number(name, value, column)

    def optional_decimal(self, name: str, column: QueryableAttribute[Any]) -> Decimal | None:
        value = self._value(name, required=False)
        return None if value is None else self._number(name, value, column)

    def _number(self, name: str, value: object, column: QueryableAttribute[Any]) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise self._bad_type(name, "a number", value)
        number = Decimal(value)
        column_type = column.expression.type
        if isinstance(column_type, Numeric) and column_type.precision and column_type.scale is not None:
            _check_fits(self._label(name), number, column_type.precision, column_type.scale)
        return number

    def moment(self, name: str) -> datetime:
        """An ISO 8601 timestamp with its UTC offset, as an aware UTC datetime."""
        value = self._value(name, required=True)
        if not isinstance(value, str):
            raise self._bad_type(name, "an ISO 8601 string", value)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise BadRow(
                ROW_BAD_DATETIME,
                f"{self._label(name)} is {value!r}, not ISO 8601 (e.g. 2026-11-23T14:05:00+03:00)",
            ) from None
        if parsed.utcoffset() is None:
            raise BadRow(
                ROW_NAIVE_DATETIME,
                f"{self._label(name)} is {value!r} without a UTC offset; add one (Nairobi is +03:00)",
            )
        return to_utc(parsed)

    def objects(self, name: str) -> list[Fields]:
        value = self._value(name, required=True)
        if not isinstance(value, list):
            raise self._bad_type(name, "an array", value)
        items: list[Fields] = []
        for index, item in enumerate(value, start=1):
            if not isinstance(item, dict):
                raise self._bad_type(f"{name}[{index}]", "an object", item)
            items.append(Fields(item, f"{self._prefix}{name}[{index}]."))
        return items


def _check_fits(label: str, number: Decimal, precision: int, scale: int) -> None:
    """Reject numbers the column would round or overflow: the store must keep exactly what was sent."""
    if not number.is_finite() or abs(number) >= Decimal(10) ** (precision - scale):
        raise BadRow(
            ROW_BAD_NUMBER,
            f"{label} is {number}; the store keeps at most {precision - scale} digits before the decimal point",
        )
    if number != number.quantize(Decimal(1).scaleb(-scale)):
        raise BadRow(ROW_BAD_NUMBER, f"{label} is {number}; the store keeps at most {scale} decimal places")
