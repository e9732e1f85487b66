"""Field checks shared by every OSCU endpoint: presence, type, codes, dates, 2-place amounts, PINs.

Each failure raises `RejectedError` with the eTIMS result code (910 parameter error, 911 no body,
913 code value error) and a message that names the field, e.g. `itemList[0].taxAmt`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from etims_pipeline.etims.money import has_at_most_2_places
from etims_pipeline.etims.pin import is_valid_kra_pin
from etims_pipeline.nairobi_time import parse_etims_compact_datetime, parse_etims_date

PARAMETER_ERROR = "910"
NO_BODY = "911"
CODE_VALUE_ERROR = "913"
YES_NO = ("Y", "N")


class RejectedError(Exception):
    """eTIMS refuses the request; result_code and message go back to the client as they are."""

    def __init__(self, result_code: str, message: str) -> None:
        super().__init__(message)
        self.result_code = result_code
        self.message = message


def reject(message: str, result_code: str = PARAMETER_ERROR) -> RejectedError:
    return RejectedError(result_code, message)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise reject("request body is empty", NO_BODY)
    try:
        body = json.loads(raw, parse_float=Decimal, parse_constant=_no_constants)
    except ValueError as exc:
        raise reject(f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise reject("request body must be a JSON object")
    return body


def present(obj: Mapping[str, Any], name: str) -> Any:
    value = obj.get(name)
    if value is None:
        raise reject(f"{name} is required")
    return value


def optional_text(obj: Mapping[str, Any], name: str, *, max_len: int) -> None:
    value = obj.get(name)
    if value is None:
        return
    if not isinstance(value, str):
        raise reject(f"{name} must be a string, got {value!r}")
    if len(value) > max_len:
        raise reject(f"{name} is longer than {max_len} characters")


def required_text(obj: Mapping[str, Any], name: str, *, max_len: int = 200) -> str:
    value = present(obj, name)
    if not isinstance(value, str) or not value.strip():
        raise reject(f"{name} must be a non-empty string, got {value!r}")
    if len(value) > max_len:
        raise reject(f"{name} is longer than {max_len} characters")
    return value


def integer(obj: Mapping[str, Any], name: str, *, minimum: int) -> int:
    value = present(obj, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise reject(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise reject(f"{name} must be at least {minimum}, got {value}")
    return value


def amount(obj: Mapping[str, Any], name: str) -> Decimal:
    value = present(obj, name)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise reject(f"{name} must be a number, got {value!r}")
    number = Decimal(value)
    if not has_at_most_2_places(number):
        raise reject(f"{name} has more than 2 decimal places: {number}")
    return number


def _timestamp(obj: Mapping[str, Any], name: str, parse: Callable[[str], object], layout: str, required: bool) -> None:
    value = obj.get(name)
    if value is None:
        if required:
            raise reject(f"{name} is required")
        return
    valid = isinstance(value, str) and len(value) == len(layout) and value.isdigit()
    if valid:
        try:
            parse(value)
        except ValueError:
            valid = False
    if not valid:
        raise reject(f"{name} must be a valid {layout} date, got {value!r}")


def datetime14(obj: Mapping[str, Any], name: str, *, required: bool = True) -> None:
    _timestamp(obj, name, parse_etims_compact_datetime, "yyyyMMddHHmmss", required)


def date8(obj: Mapping[str, Any], name: str) -> None:
    _timestamp(obj, name, parse_etims_date, "yyyyMMdd", True)


def code(obj: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = present(obj, name)
    if value not in allowed:
        raise reject(f"{name} has code value {value!r}; expected one of {', '.join(allowed)}", CODE_VALUE_ERROR)
    return str(value)


def optional_code(obj: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> None:
    if obj.get(name) is not None:
        code(obj, name, allowed)


def pin(obj: Mapping[str, Any], name: str) -> None:
    value = obj.get(name)
    if value is not None and not (isinstance(value, str) and is_valid_kra_pin(value)):
        raise reject(f"{name} {value!r} is not a valid KRA PIN (letter, 9 digits, letter)")
