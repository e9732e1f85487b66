"""Asset checks of the submitted invoices: the org guard, orgs awaiting verification, no double acceptance."""

from __future__ import annotations

from datetime import date

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, MetadataValue
from sqlalchemy import Engine

from etims_pipeline.submission import audit

SUBMITTED_INVOICES = AssetKey("submitted_invoices")
GUARD_CHECK = "org_guard_enforced"
AWAITING_CHECK = "orgs_awaiting_verification"
ONCE_CHECK = "no_invoice_accepted_twice"
RECEIPT_CHECK = "accepted_invoices_have_receipts"

SUBMISSION_CHECK_SPECS = [
    AssetCheckSpec(
        GUARD_CHECK,
        asset=SUBMITTED_INVOICES,
        blocking=True,
        description="No invoice of an org without a valid KRA PIN and tax_status=VERIFIED reached eTIMS.",
    ),
    AssetCheckSpec(
        AWAITING_CHECK,
        asset=SUBMITTED_INVOICES,
        description="Warns with the orgs whose invoices the guard holds (ORG_NOT_VERIFIED), and how many.",
    ),
    AssetCheckSpec(
        ONCE_CHECK,
        asset=SUBMITTED_INVOICES,
        blocking=True,
        description="No invoice got more than one accepting answer from eTIMS.",
    ),
    AssetCheckSpec(
        RECEIPT_CHECK,
        asset=SUBMITTED_INVOICES,
        blocking=True,
        description="Every accepted invoice has its invoice number and eTIMS receipt signature stored.",
    ),
]


def submission_check_results(engine: Engine, first_day: date, last_day: date) -> list[AssetCheckResult]:
    violations = audit.guard_violations(engine, first_day, last_day)
    held = audit.held_invoices_by_org(engine, first_day, last_day)
    twice = audit.invoices_accepted_twice(engine, first_day, last_day)
    no_receipt = audit.accepted_without_receipt(engine, first_day, last_day)
    return [
        AssetCheckResult(
            check_name=GUARD_CHECK,
            passed=not violations,
            metadata={
                "violations": len(violations),
                "orgs": MetadataValue.json(sorted({v.org_id for v in violations})),
                "attempt_ids": MetadataValue.json([v.attempt_id for v in violations[:50]]),
            },
        ),
        AssetCheckResult(
            check_name=AWAITING_CHECK,
            passed=not held,
            severity=AssetCheckSeverity.WARN,
            description=(
                f"{len(held)} org(s) awaiting verification hold {sum(held.values())} invoice(s): set a valid KRA PIN "
                "and tax_status=VERIFIED; the replay sensor then resubmits their last 7 days"
                if held
                else "no org is awaiting verification"
            ),
            metadata={
                "orgs_awaiting_verification": len(held),
                "held_invoices": sum(held.values()),
                "held_invoices_by_org": MetadataValue.json({str(org): n for org, n in held.items()}),
            },
        ),
        AssetCheckResult(
            check_name=ONCE_CHECK,
            passed=not twice,
            metadata={
                "invoices_accepted_twice": len(twice),
                "invoice_ids": MetadataValue.json(sorted(twice)[:50]),
            },
        ),
        AssetCheckResult(
            check_name=RECEIPT_CHECK,
            passed=not no_receipt,
            metadata={
                "accepted_without_receipt": len(no_receipt),
                "invoice_ids": MetadataValue.json(no_receipt[:50]),
            },
        ),
    ]
