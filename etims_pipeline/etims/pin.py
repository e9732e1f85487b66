"""KRA PIN format: 11 characters, a letter, nine digits, a letter; A for individuals, P for entities."""

from __future__ import annotations

import re

_KRA_PIN = re.compile(r"[AP][0-9]{9}[A-Z]")


def normalize_pin(pin: str | None) -> str:
    return (pin or "").strip().upper()


def is_valid_kra_pin(pin: str | None) -> bool:
    return bool(_KRA_PIN.fullmatch(normalize_pin(pin)))


def pin_problem(pin: str | None) -> str | None:
    """Why a PIN is not valid, in words an operator can act on; None when it is valid."""
    value = normalize_pin(pin)
    if not value:
        return "KRA PIN is missing"
    if len(value) != 11:
        return f"KRA PIN {value!r} has {len(value)} characters; it needs 11 (letter, 9 digits, letter)"
    if value[0] not in "AP":
        return f"KRA PIN {value!r} must start with A (individual) or P (non-individual)"
    if not _KRA_PIN.fullmatch(value):
        return f"KRA PIN {value!r} must be a letter, 9 digits and a letter"
    return None
