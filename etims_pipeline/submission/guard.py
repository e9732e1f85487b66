"""The runbook's pre-submit guard: a valid KRA PIN and tax_status VERIFIED, or a hard block."""

from __future__ import annotations

from dataclasses import dataclass

from etims_pipeline.etims.pin import is_valid_kra_pin, pin_problem
from etims_pipeline.store.models import TaxStatus

ORG_NOT_VERIFIED = "ORG_NOT_VERIFIED"
ORG_CHECK_FAILED = "ORG_CHECK_FAILED"
ETIMS_DISABLED = "ETIMS_DISABLED"

REASON_ORG_NOT_VERIFIED = "org_not_verified"
REASON_ORG_CHECK_FAILED = "org_check_failed"
REASON_FEATURE_DISABLED = "feature_disabled"

FIX_HINT = "set a valid KRA PIN and tax_status=VERIFIED on the org, then the replay sensor resubmits the last 7 days"


@dataclass(frozen=True)
class OrgSnapshot:
    """The fields the guard reads, copied so the decision can be recorded with every attempt."""

    org_id: int
    kra_pin: str | None
    tax_status: str

    @property
    def pin_valid(self) -> bool:
        return is_valid_kra_pin(self.kra_pin)


@dataclass(frozen=True)
class GuardDecision:
    passed: bool
    code: str | None = None
    reason: str | None = None
    message: str | None = None


PASS = GuardDecision(passed=True)


def evaluate_guard(org: OrgSnapshot) -> GuardDecision:
    problems = []
    if not org.pin_valid:
        problems.append(pin_problem(org.kra_pin) or "KRA PIN is not valid")
    if org.tax_status != TaxStatus.VERIFIED:
        problems.append(f"tax_status={org.tax_status}")
    if not problems:
        return PASS
    return GuardDecision(
        passed=False,
        code=ORG_NOT_VERIFIED,
        reason=REASON_ORG_NOT_VERIFIED,
        message=f"{ORG_NOT_VERIFIED}: org {org.org_id} cannot submit ({'; '.join(problems)}); {FIX_HINT}",
    )


def check_failed(org_id: int, error: BaseException) -> GuardDecision:
    # The error's text may carry a connection string; only its type reaches logs and metadata.
    return GuardDecision(
        passed=False,
        code=ORG_CHECK_FAILED,
        reason=REASON_ORG_CHECK_FAILED,
        message=f"{ORG_CHECK_FAILED}: could not check org {org_id} ({type(error).__name__}); "
        "its invoices stay queued and are retried on the next run",
    )


def feature_disabled() -> GuardDecision:
    return GuardDecision(
        passed=False,
        code=ETIMS_DISABLED,
        reason=REASON_FEATURE_DISABLED,
        message=f"{ETIMS_DISABLED}: ETIMS_ENABLED is off, nothing was sent; enable the flag and retry",
    )
