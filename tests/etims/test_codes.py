"""Every eTIMS result code maps to the action the submission engine takes."""

from __future__ import annotations

import re

import pytest

from etims_pipeline.etims.codes import RESULT_CODES, ResultKind, classify_result

REJECTED_FIXABLE = ["900", "901", "902", "903"]
REJECTED_FINAL = ["910", "911", "912", "913"]
TRANSIENT = ["894", "990", "991", "992", "993", "999"]


@pytest.mark.parametrize(
    ("code", "kind", "reason"),
    [
        ("000", ResultKind.ACCEPTED, "accepted"),
        ("001", ResultKind.NOT_FOUND, "no_search_result"),
        ("994", ResultKind.DUPLICATE, "duplicate_data"),
        ("900", ResultKind.REJECTED, "missing_header"),
        ("901", ResultKind.REJECTED, "invalid_device"),
        ("902", ResultKind.REJECTED, "device_already_installed"),
        ("903", ResultKind.REJECTED, "not_an_oscu_device"),
        ("910", ResultKind.REJECTED, "request_parameter_error"),
        ("911", ResultKind.REJECTED, "no_request_body"),
        ("912", ResultKind.REJECTED, "request_method_error"),
        ("913", ResultKind.REJECTED, "code_value_error"),
        ("894", ResultKind.TRANSIENT, "server_communication_error"),
        ("990", ResultKind.TRANSIENT, "view_limit_exceeded"),
        ("991", ResultKind.TRANSIENT, "server_registration_error"),
        ("992", ResultKind.TRANSIENT, "server_modification_error"),
        ("993", ResultKind.TRANSIENT, "server_deletion_error"),
        ("999", ResultKind.TRANSIENT, "unknown_server_error"),
    ],
)
def test_documented_codes_map_to_kind_and_reason(code: str, kind: ResultKind, reason: str) -> None:
    meaning = classify_result(code)
    assert meaning.kind is kind
    assert meaning.reason == reason


@pytest.mark.parametrize("code", REJECTED_FIXABLE)
def test_config_and_device_rejections_are_retryable_after_a_fix(code: str) -> None:
    meaning = classify_result(code)
    assert meaning.kind is ResultKind.REJECTED
    assert meaning.retryable_after_fix is True


@pytest.mark.parametrize("code", REJECTED_FINAL)
def test_data_and_request_rejections_are_not_retryable(code: str) -> None:
    meaning = classify_result(code)
    assert meaning.kind is ResultKind.REJECTED
    assert meaning.retryable_after_fix is False


@pytest.mark.parametrize("code", TRANSIENT)
def test_server_side_failures_are_transient(code: str) -> None:
    assert classify_result(code).kind is ResultKind.TRANSIENT


@pytest.mark.parametrize("code", ["000", "00", "0000", "0", " 000 ", " 0 "])
def test_success_variants_are_accepted(code: str) -> None:
    assert classify_result(code) == classify_result("000")
    assert classify_result(code).kind is ResultKind.ACCEPTED


def test_no_search_result_is_not_an_error() -> None:
    meaning = classify_result("001")
    assert meaning.kind is ResultKind.NOT_FOUND
    assert meaning.reason == "no_search_result"


def test_duplicate_is_reconciled_not_rejected() -> None:
    meaning = classify_result("994")
    assert meaning.kind is ResultKind.DUPLICATE
    assert meaning.retryable_after_fix is False


@pytest.mark.parametrize("code", ["123", "905", "E04", "E11", "9999", "0001"])
def test_unknown_codes_are_transient_and_named(code: str) -> None:
    meaning = classify_result(code)
    assert meaning.kind is ResultKind.TRANSIENT
    assert meaning.reason == f"unknown_result_code_{code}"
    assert meaning.retryable_after_fix is False


@pytest.mark.parametrize("code", [None, "", "   "])
def test_missing_code_is_transient_and_says_missing(code: str | None) -> None:
    meaning = classify_result(code)
    assert meaning.kind is ResultKind.TRANSIENT
    assert meaning.reason == "unknown_result_code_missing"


def test_reasons_are_unique_snake_case_metric_labels() -> None:
    reasons = [meaning.reason for meaning in RESULT_CODES.values()]
    assert len(reasons) == len(set(reasons))
    for reason in reasons:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", reason), reason


def test_every_table_code_is_three_digits() -> None:
    for code in RESULT_CODES:
        assert re.fullmatch(r"[0-9]{3}", code), code
