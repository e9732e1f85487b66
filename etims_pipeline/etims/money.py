"""Money and quantities as Decimal with 2 places, end to end; never float until the JSON edge."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def to_decimal(value: object, field: str) -> Decimal:
    """Parse a number from JSON or the database without passing through float."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{field} must be a number, got {value!r}")
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"{field} must be a number, got {value!r}") from exc
    if not number.is_finite():
        raise ValueError(f"{field} must be a finite number, got {value!r}")
    return number


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def db_money(value: object) -> Decimal:
    """A database sum as an exact cent amount (SQLite hands back floats, PostgreSQL Decimals)."""
    return money(to_decimal(value, "database amount"))


def has_at_most_2_places(value: Decimal) -> bool:
    return value == value.quantize(CENT)


def json_number(value: Decimal) -> float | int:
    """Decimal → JSON number. 2-place amounts below 10^13 round-trip exactly through float's repr."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)
