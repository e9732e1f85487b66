"""eTIMS code tables and the meaning of every result code for the pipeline.

Result codes are values, not exceptions: `classify_result` turns each into the action the submission
engine takes (accept, reject with a reason, retry, or reconcile a possible duplicate).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

TAX_BANDS = ("A", "B", "C", "D", "E")
TAX_BAND_NAMES = {"A": "Exempt", "B": "VAT 16%", "C": "Zero-rated", "D": "Non-VAT", "E": "VAT 8%"}
TAX_TYPE_CODE_CLASS = "04"  # selectCodeList class holding the tax bands; the rate is in userDfnCd1

RECEIPT_SALE = "S"
RECEIPT_CREDIT_NOTE = "R"
RECEIPT_TYPES = (RECEIPT_SALE, RECEIPT_CREDIT_NOTE)

SALES_TYPE_NORMAL = "N"
SALES_STATUS_APPROVED = "02"

PAYMENT_TYPES = {
    "01": "cash",
    "02": "credit",
    "03": "cash/credit",
    "04": "bank cheque",
    "05": "debit/credit card",
    "06": "mobile money",
    "07": "other",
}

CREDIT_NOTE_REASONS = {
    "01": "missing quantity",
    "02": "missing data",
    "03": "damaged",
    "04": "wasted",
    "05": "raw material shortage",
    "06": "refund",
}

SUCCESS = "000"
NO_SEARCH_RESULT = "001"
DEVICE_INSTALLED = "902"
DUPLICATE = "994"


class ResultKind(StrEnum):
    """What a result code means for the invoice it answered."""

    ACCEPTED = "accepted"
    NOT_FOUND = "not_found"  # 001: a lookup found nothing; not an error
    REJECTED = "rejected"  # eTIMS refused the data or the device: resend the same bytes and it fails again
    TRANSIENT = "transient"  # eTIMS had a problem: retry with backoff, after a lookup
    DUPLICATE = "duplicate"  # 994: the number is already used; reconcile by lookup, never blind resend


@dataclass(frozen=True)
class ResultMeaning:
    kind: ResultKind
    reason: str  # stable snake_case label for metrics, metadata and KPIs
    retryable_after_fix: bool  # a replay after an operator fixes config/org may succeed


def _m(kind: ResultKind, reason: str, retryable: bool = False) -> ResultMeaning:
    return ResultMeaning(kind, reason, retryable)


RESULT_CODES: dict[str, ResultMeaning] = {
    "000": _m(ResultKind.ACCEPTED, "accepted"),
    "001": _m(ResultKind.NOT_FOUND, "no_search_result"),
    "891": _m(ResultKind.REJECTED, "client_url_error"),
    "892": _m(ResultKind.REJECTED, "client_header_error"),
    "893": _m(ResultKind.REJECTED, "client_body_error"),
    "894": _m(ResultKind.TRANSIENT, "server_communication_error"),
    "895": _m(ResultKind.REJECTED, "client_request_method_error"),
    "896": _m(ResultKind.TRANSIENT, "client_request_status_error"),
    "899": _m(ResultKind.TRANSIENT, "client_other_error"),
    "900": _m(ResultKind.REJECTED, "missing_header", retryable=True),
    "901": _m(ResultKind.REJECTED, "invalid_device", retryable=True),
    "902": _m(ResultKind.REJECTED, "device_already_installed", retryable=True),
    "903": _m(ResultKind.REJECTED, "not_an_oscu_device", retryable=True),
    "910": _m(ResultKind.REJECTED, "request_parameter_error"),
    "911": _m(ResultKind.REJECTED, "no_request_body"),
    "912": _m(ResultKind.REJECTED, "request_method_error"),
    "913": _m(ResultKind.REJECTED, "code_value_error"),
    "921": _m(ResultKind.REJECTED, "sales_data_not_receivable", retryable=True),
    "922": _m(ResultKind.REJECTED, "invoice_before_sales_data", retryable=True),
    "990": _m(ResultKind.TRANSIENT, "view_limit_exceeded"),
    "991": _m(ResultKind.TRANSIENT, "server_registration_error"),
    "992": _m(ResultKind.TRANSIENT, "server_modification_error"),
    "993": _m(ResultKind.TRANSIENT, "server_deletion_error"),
    "994": _m(ResultKind.DUPLICATE, "duplicate_data"),
    "995": _m(ResultKind.REJECTED, "no_downloaded_file"),
    "999": _m(ResultKind.TRANSIENT, "unknown_server_error"),
}

# Success spelled differently by some deployments (reported, unverified); treat them as 000.
_SUCCESS_VARIANTS = frozenset({"00", "0000", "0"})


def classify_result(result_code: str | None) -> ResultMeaning:
    code = (result_code or "").strip()
    if code in _SUCCESS_VARIANTS:
        code = SUCCESS
    known = RESULT_CODES.get(code)
    if known is not None:
        return known
    return ResultMeaning(ResultKind.TRANSIENT, f"unknown_result_code_{code or 'missing'}", False)
