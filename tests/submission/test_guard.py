"""The runbook's pre-submit guard: valid KRA PIN and tax_status VERIFIED, else ORG_NOT_VERIFIED."""

from __future__ import annotations

import pytest

from etims_pipeline.store.models import TaxStatus
from etims_pipeline.submission.guard import (
    FIX_HINT,
    PASS,
    OrgSnapshot,
    check_failed,
    evaluate_guard,
    feature_disabled,
)


@pytest.mark.parametrize("pin", ["P051365947M", "A004416331M", " p051365947m "])
@pytest.mark.parametrize("status", [TaxStatus.VERIFIED, "VERIFIED"])
def test_verified_org_with_valid_pin_passes(pin: str, status: str) -> None:
    decision = evaluate_guard(OrgSnapshot(org_id=7, kra_pin=pin, tax_status=status))
    assert decision == PASS
    assert decision.passed is True
    assert decision.code is None
    assert decision.message is None


@pytest.mark.parametrize(
    ("pin", "status", "problem"),
    [
        (None, "VERIFIED", "KRA PIN is missing"),
        ("", "VERIFIED", "KRA PIN is missing"),
        ("P05136594M", "VERIFIED", "KRA PIN 'P05136594M' has 10 characters"),
        ("B051365947M", "VERIFIED", "must start with A (individual) or P (non-individual)"),
        ("PA51365947M", "VERIFIED", "must be a letter, 9 digits and a letter"),
        ("P051365947M", "PENDING", "tax_status=PENDING"),
        ("P051365947M", "UNVERIFIED", "tax_status=UNVERIFIED"),
        ("P051365947M", "SUSPENDED", "tax_status=SUSPENDED"),
        ("P051365947M", "verified", "tax_status=verified"),  # the status is matched exactly
        ("P051365947M", "", "tax_status="),
    ],
)
def test_each_failure_blocks_with_org_not_verified(pin: str | None, status: str, problem: str) -> None:
    decision = evaluate_guard(OrgSnapshot(org_id=4242, kra_pin=pin, tax_status=status))
    assert decision.passed is False
    assert decision.code == "ORG_NOT_VERIFIED"
    assert decision.reason == "org_not_verified"
    assert decision.message is not None
    assert decision.message.startswith("ORG_NOT_VERIFIED: org 4242 cannot submit (")
    assert problem in decision.message
    assert FIX_HINT in decision.message
    assert "tax_status=VERIFIED" in decision.message


def test_both_problems_are_reported_together() -> None:
    decision = evaluate_guard(OrgSnapshot(org_id=9, kra_pin=None, tax_status="PENDING"))
    assert decision.message is not None
    assert "(KRA PIN is missing; tax_status=PENDING)" in decision.message


def test_fix_hint_tells_the_operator_what_to_do() -> None:
    assert "valid KRA PIN" in FIX_HINT
    assert "tax_status=VERIFIED" in FIX_HINT


def test_snapshot_pin_valid_follows_the_pin_rules() -> None:
    assert OrgSnapshot(1, "P051365947M", "VERIFIED").pin_valid is True
    assert OrgSnapshot(1, "P05136594M", "VERIFIED").pin_valid is False
    assert OrgSnapshot(1, None, "VERIFIED").pin_valid is False


class DatabaseDown(Exception):
    pass


@pytest.mark.parametrize(
    "error",
    [
        DatabaseDown("could not connect to postgresql://etims:hunter2@db.internal:5432/etims"),
        RuntimeError("password=hunter2"),
        TimeoutError("hunter2"),
    ],
)
def test_check_failed_names_the_error_type_but_never_its_text(error: Exception) -> None:
    decision = check_failed(31, error)
    assert decision.passed is False
    assert decision.code == "ORG_CHECK_FAILED"
    assert decision.reason == "org_check_failed"
    assert decision.message is not None
    assert "hunter2" not in decision.message
    assert str(error) not in decision.message
    assert f"({type(error).__name__})" in decision.message
    assert "org 31" in decision.message
    assert "retried on the next run" in decision.message


def test_feature_disabled_says_to_enable_the_flag() -> None:
    decision = feature_disabled()
    assert decision.passed is False
    assert decision.code == "ETIMS_DISABLED"
    assert decision.reason == "feature_disabled"
    assert decision.message is not None
    assert "ETIMS_ENABLED" in decision.message
    assert "enable the flag" in decision.message
    assert "nothing was sent" in decision.message
