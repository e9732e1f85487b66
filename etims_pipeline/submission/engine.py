"""The submission engine: the flag, the org guard, and one bounded pool of org workers.

Each org is worked by one thread, its invoices in issue order, so its invoice numbers follow issue order;
many orgs are in flight at once, up to `max_in_flight`. Each invoice is claimed, then handed to the state
machine in `invoice_flow`. One org's failure is contained to that org.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Engine

from etims_pipeline.etims.client import (
    DeviceCredentials,
    EtimsClient,
)
from etims_pipeline.observability.logging import log_submission
from etims_pipeline.settings import FeatureFlags
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.models import AttemptKind, AttemptOutcome, InvoiceStatus
from etims_pipeline.submission import outbox
from etims_pipeline.submission.attempts import Attempt
from etims_pipeline.submission.devices import device_credentials
from etims_pipeline.submission.guard import (
    GuardDecision,
    OrgSnapshot,
    check_failed,
    evaluate_guard,
    feature_disabled,
)
from etims_pipeline.submission.invoice_flow import InvoiceServices, InvoiceSubmission, OrgHalted
from etims_pipeline.submission.outbox import ClaimLostError, WorkItem
from etims_pipeline.submission.rates import TaxRatesProvider
from etims_pipeline.submission.results import InvoiceResult, OrgResult, SubmissionReport
from etims_pipeline.submission.retry import RetryPolicy

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubmissionRequest:
    first_day: date
    last_day: date
    run_id: str
    org_ids: tuple[int, ...] | None = None  # None: every org with open invoices on those days
    replay: bool = False  # also resend rejections a fix can cure (rejected, retryable)


@dataclass(frozen=True)
class EngineSettings:
    max_in_flight: int = 8
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    tax_rate_max_age: timedelta = timedelta(hours=24)


class SubmissionEngine:
    def __init__(self, engine: Engine, client: EtimsClient, flags: FeatureFlags, settings: EngineSettings) -> None:
        self._engine = engine
        self._client = client
        self._flags = flags
        self._settings = settings
        rates = TaxRatesProvider(engine, client, settings.tax_rate_max_age)
        self._services = InvoiceServices(store=engine, client=client, rates=rates.get, retry=settings.retry)

    def submit(self, request: SubmissionRequest) -> SubmissionReport:
        report = SubmissionReport(first_day=request.first_day, last_day=request.last_day, run_id=request.run_id)
        org_ids = outbox.candidate_org_ids(
            self._engine, request.first_day, request.last_day, request.org_ids, replay=request.replay
        )
        if not self._flags.etims_enabled:
            report.feature_disabled = True
            report.orgs = [self._block_org(org_id, request, feature_disabled()) for org_id in org_ids]
            return report
        if not org_ids:
            return report
        workers = max(1, min(self._settings.max_in_flight, len(org_ids)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="etims-org") as pool:
            report.orgs = list(pool.map(lambda org_id: self._run_org(org_id, request), org_ids))
        return report

    # -- org level ---------------------------------------------------------------------------------

    def _run_org(self, org_id: int, request: SubmissionRequest) -> OrgResult:
        try:
            return self._submit_org(org_id, request)
        except Exception as exc:  # contained: other orgs go on
            logger.exception("org %s failed unexpectedly; its invoices stay queued", org_id)
            return OrgResult(org_id=org_id, error=f"{type(exc).__name__}: {exc}")

    def _submit_org(self, org_id: int, request: SubmissionRequest) -> OrgResult:
        try:
            with session_scope(self._engine) as session:
                snapshot, org = outbox.org_snapshot(session, org_id)
                decision = evaluate_guard(snapshot)
                device = (org.bhf_id, org.device_serial, org.cmc_key)
        except Exception as exc:
            return self._block_org(org_id, request, check_failed(org_id, exc))
        if not decision.passed:
            return self._block_org(org_id, request, decision, snapshot)
        bhf_id, serial, cmc_key = device
        credentials = device_credentials(
            self._engine, self._client, snapshot, bhf_id=bhf_id, serial=serial, cmc_key=cmc_key
        )
        if isinstance(credentials, GuardDecision):
            return self._block_org(org_id, request, credentials, snapshot)
        result = OrgResult(org_id=org_id)
        for item in outbox.open_work(self._engine, org_id, request.first_day, request.last_day, replay=request.replay):
            try:
                outcome = self._submit_invoice(item, snapshot, credentials, request)
            except OrgHalted as halt:
                result.halted_reason = str(halt)
                result.invoices.append(halt.result)
                break
            if outcome is None:
                result.skipped_claimed += 1
            else:
                result.invoices.append(outcome)
        return result

    def _block_org(
        self,
        org_id: int,
        request: SubmissionRequest,
        decision: GuardDecision,
        snapshot: OrgSnapshot | None = None,
    ) -> OrgResult:
        org = snapshot or OrgSnapshot(org_id=org_id, kra_pin=None, tax_status="UNKNOWN")
        items = outbox.open_invoices(self._engine, org_id, request.first_day, request.last_day)
        hold = decision.code == "ORG_NOT_VERIFIED"
        attempt = Attempt(
            kind=AttemptKind.BLOCKED,
            outcome=AttemptOutcome.BLOCKED,
            reason=decision.reason,
            result_code=decision.code,
            result_message=decision.message,
        )
        blocked = set(
            outbox.block_invoices(self._engine, items, org=org, run_id=request.run_id, attempt=attempt, hold=hold)
        )
        status = InvoiceStatus.HELD.value if hold else InvoiceStatus.PENDING.value
        result = OrgResult(org_id=org_id, blocked_code=decision.code, blocked_message=decision.message)
        for item in items:
            if item.invoice_id not in blocked:
                result.skipped_claimed += 1
                continue
            log_submission(
                org_id=org_id,
                invoice_id=item.invoice_id,
                invoice_no=item.invoice_no,
                kind=attempt.kind,
                status=attempt.outcome,
                reason=decision.reason,
                result_code=decision.code,
                latency_seconds=None,
                attempt=0,
                run_id=request.run_id,
                reached_etims=False,
            )
            result.invoices.append(
                InvoiceResult(item.invoice_id, org_id, item.issue_date, status, decision.code, decision.reason)
            )
        return result

    # -- invoice level -----------------------------------------------------------------------------

    def _submit_invoice(
        self, item: WorkItem, org: OrgSnapshot, credentials: DeviceCredentials, request: SubmissionRequest
    ) -> InvoiceResult | None:
        if not outbox.claim(self._engine, item, request.run_id, replay=request.replay):
            return None
        submission = InvoiceSubmission(self._services, item, org, credentials, request.run_id)
        try:
            return submission.run()
        except ClaimLostError:
            return None
        except OrgHalted:
            raise  # the invoice is settled already; nothing to release
        except Exception as exc:
            submission.release_after(exc)
            raise
