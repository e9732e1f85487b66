"""What one run did, invoice by invoice and org by org: the raw material for asset metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class InvoiceResult:
    invoice_id: int
    org_id: int
    issue_date: date
    status: str  # the invoice's status after this run
    code: str | None = None  # ORG_NOT_VERIFIED, INVOICE_BAD_TAX_BAND, ETIMS_910, ...
    reason: str | None = None  # the snake_case label used by metrics and metadata
    save_latencies: tuple[float, ...] = ()
    calls: int = 0


@dataclass
class OrgResult:
    org_id: int
    invoices: list[InvoiceResult] = field(default_factory=list)
    blocked_code: str | None = None  # set when the whole org was held or blocked before any call
    blocked_message: str | None = None
    halted_reason: str | None = None  # eTIMS unavailable: the rest of the org waits for the next run
    skipped_claimed: int = 0  # invoices another run was working on
    error: str | None = None  # an unexpected failure, contained to this org


@dataclass
class SubmissionReport:
    first_day: date
    last_day: date
    run_id: str
    orgs: list[OrgResult] = field(default_factory=list)
    feature_disabled: bool = False

    @property
    def invoices(self) -> list[InvoiceResult]:
        return [invoice for org in self.orgs for invoice in org.invoices]
