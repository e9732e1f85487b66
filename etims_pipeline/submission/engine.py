"""The submission engine: one bounded pool of org workers, one invoice state machine.

Each org is worked by one thread, its invoices in issue order, so its invoice numbers follow issue order;
many orgs are in flight at once, up to `max_in_flight`. For each invoice: claim it, validate it, check
credit-note rules, then send; an outcome that may have reached eTIMS (timeout, 5xx, transient code, 994)
is resolved by `selectInvoiceDetails` before any resend. One org's failure is contained to that org.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import Engine

from etims_pipeline.etims.client import (
    DeviceCredentials,
    EtimsClient,
    EtimsResponse,
    EtimsTimeout,
    EtimsTransportError,
    parse_receipt,
    receipt_time,
)
from etims_pipeline.etims.codes import DEVICE_INSTALLED, SUCCESS, ResultKind, classify_result
from etims_pipeline.etims.document import SaleDocument
from etims_pipeline.etims.payload import build_sales_payload
from etims_pipeline.etims.secret import Secret
from etims_pipeline.etims.tax import TaxRates
from etims_pipeline.etims.validation import Problem, document_problems
from etims_pipeline.nairobi_time import now_utc
from etims_pipeline.observability.logging import log_submission, register_secret
from etims_pipeline.settings import FeatureFlags
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.models import AttemptKind, AttemptOutcome, InvoiceStatus
from etims_pipeline.submission import outbox
from etims_pipeline.submission.credit_notes import judge_credit_note
from etims_pipeline.submission.guard import (
    GuardDecision,
    OrgSnapshot,
    check_failed,
    evaluate_guard,
    feature_disabled,
)
from etims_pipeline.submission.outbox import Attempt, ClaimLostError, Settlement, WorkItem
from etims_pipeline.submission.rates import TaxRatesProvider, TaxRatesUnavailableError
from etims_pipeline.submission.results import InvoiceResult, OrgResult, SubmissionReport
from etims_pipeline.submission.retry import RetryPolicy

logger = logging.getLogger(__name__)

REASON_INVALID = "invalid_invoice"
REASON_DEVICE = "device_not_initialised"
_OUTCOME_BY_KIND = {
    ResultKind.ACCEPTED: AttemptOutcome.ACCEPTED,
    ResultKind.REJECTED: AttemptOutcome.REJECTED,
    ResultKind.TRANSIENT: AttemptOutcome.TRANSIENT,
    ResultKind.DUPLICATE: AttemptOutcome.DUPLICATE,
    ResultKind.NOT_FOUND: AttemptOutcome.TRANSIENT,
}


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


def _answered(
    kind: AttemptKind,
    outcome: AttemptOutcome,
    reason: str,
    response: EtimsResponse,
    started: datetime,
    *,
    receipt: dict[str, object] | None = None,
) -> Attempt:
    """The attempt record of a call eTIMS answered."""
    return Attempt(
        kind=kind,
        outcome=outcome,
        reason=reason,
        result_code=response.result_code,
        result_message=response.result_message,
        latency_seconds=response.latency_seconds,
        http_status=response.http_status,
        reached_etims=True,
        receipt=receipt,
        requested_at=started,
    )


def _unanswered(kind: AttemptKind, error: EtimsTransportError, started: datetime) -> Attempt:
    """The attempt record of a call that got no eTIMS answer; it reached eTIMS unless the connect failed."""
    timeout = isinstance(error, EtimsTimeout)
    return Attempt(
        kind=kind,
        outcome=AttemptOutcome.TIMEOUT if timeout else AttemptOutcome.TRANSIENT,
        reason="timeout" if timeout else "transport_error",
        result_message=str(error),
        latency_seconds=error.latency_seconds,
        http_status=error.http_status,
        reached_etims=error.possibly_sent,
        requested_at=started,
    )


def _known_device(org: OrgSnapshot, bhf_id: str, cmc_key: str) -> DeviceCredentials:
    register_secret(cmc_key)
    return DeviceCredentials(org.kra_pin or "", bhf_id, Secret(cmc_key))


class _Halt(Exception):
    """eTIMS is unavailable for this org: stop its remaining invoices for this run."""

    def __init__(self, result: InvoiceResult, message: str) -> None:
        super().__init__(message)
        self.result = result


class SubmissionEngine:
    def __init__(self, engine: Engine, client: EtimsClient, flags: FeatureFlags, settings: EngineSettings) -> None:
        self._engine = engine
        self._client = client
        self._flags = flags
        self._settings = settings
        self._rates = TaxRatesProvider(engine, client, settings.tax_rate_max_age)

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
        credentials = self._credentials(snapshot, bhf_id, serial, cmc_key)
        if isinstance(credentials, GuardDecision):
            return self._block_org(org_id, request, credentials, snapshot)
        result = OrgResult(org_id=org_id)
        for item in outbox.open_work(self._engine, org_id, request.first_day, request.last_day, replay=request.replay):
            try:
                outcome = self._submit_invoice(item, snapshot, credentials, request)
            except _Halt as halt:
                result.halted_reason = str(halt)
                result.invoices.append(halt.result)
                break
            if outcome is None:
                result.skipped_claimed += 1
            else:
                result.invoices.append(outcome)
                if outcome.code == "ETIMS_UNAVAILABLE":
                    result.halted_reason = "eTIMS unavailable after retries"
                    break
        return result

    def _block_org(
        self,
        org_id: int,
        request: SubmissionRequest,
        decision: GuardDecision,
        snapshot: OrgSnapshot | None = None,
    ) -> OrgResult:
        org = snapshot or OrgSnapshot(org_id=org_id, kra_pin=None, tax_status="UNKNOWN")
        items = outbox.open_work(self._engine, org_id, request.first_day, request.last_day)
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

    def _credentials(
        self, org: OrgSnapshot, bhf_id: str, serial: str, cmc_key: str | None
    ) -> DeviceCredentials | GuardDecision:
        """The org's device credentials, initialising the device with eTIMS the first time."""
        if cmc_key:
            return _known_device(org, bhf_id, cmc_key)
        with outbox.device_init_lock(self._engine, org.org_id) as device:
            if device.cmc_key:  # an overlapping run initialised it while this one waited for the lock
                return _known_device(org, bhf_id, device.cmc_key)
            try:
                response = self._client.init_device(org.kra_pin or "", bhf_id, serial)
            except EtimsTransportError as exc:
                return self._device_problem(org, "DEVICE_INIT_FAILED", f"device init could not reach eTIMS: {exc}")
            if response.result_code == SUCCESS:
                info = (response.data or {}).get("info") or {}
                key = str(info.get("cmcKey") or "")
                if not key:
                    return self._device_problem(org, "DEVICE_INIT_FAILED", "device init answered without a cmcKey")
                outbox.store_device(device, key, info.get("sdcId"), info.get("mrcNo"))
                return _known_device(org, bhf_id, key)
        if response.result_code == DEVICE_INSTALLED:
            return self._device_problem(
                org,
                "DEVICE_ALREADY_INSTALLED",
                f"eTIMS says device {serial!r} is already installed but no cmcKey is stored for org {org.org_id}; "
                "load the org with its cmc_key, or ask KRA to reset the device",
            )
        return self._device_problem(
            org,
            f"DEVICE_INIT_{response.result_code}",
            f"device init refused: {response.result_code} {response.result_message} (check bhf_id and device_serial)",
        )

    @staticmethod
    def _device_problem(org: OrgSnapshot, code: str, message: str) -> GuardDecision:
        return GuardDecision(
            passed=False, code=code, reason=REASON_DEVICE, message=f"{code}: org {org.org_id}: {message}"
        )

    # -- invoice level -----------------------------------------------------------------------------

    def _submit_invoice(
        self, item: WorkItem, org: OrgSnapshot, credentials: DeviceCredentials, request: SubmissionRequest
    ) -> InvoiceResult | None:
        if not outbox.claim(self._engine, item, request.run_id, replay=request.replay):
            return None
        submission = _InvoiceSubmission(self, item, org, credentials, request.run_id)
        try:
            return submission.run()
        except ClaimLostError:
            return None
        except Exception as exc:
            submission.release_after(exc)
            raise

    def rates(self, credentials: DeviceCredentials) -> TaxRates:
        return self._rates.get(credentials)

    @property
    def client(self) -> EtimsClient:
        return self._client

    @property
    def store(self) -> Engine:
        return self._engine

    @property
    def retry(self) -> RetryPolicy:
        return self._settings.retry


class _Conflict(Exception):
    """The lookup found somebody else's sale under this invoice's number: stop, never resend."""

    def __init__(self, result: InvoiceResult) -> None:
        super().__init__(result.code)
        self.result = result


class _InvoiceSubmission:
    """The state machine for one claimed invoice in one run."""

    def __init__(
        self,
        engine: SubmissionEngine,
        item: WorkItem,
        org: OrgSnapshot,
        credentials: DeviceCredentials,
        run_id: str,
    ) -> None:
        self.engine = engine
        self.item = item
        self.org = org
        self.credentials = credentials
        self.run_id = run_id
        self.invoice_no = item.invoice_no
        self.needs_lookup = item.needs_lookup
        self.calls = 0
        self.latencies: list[float] = []

    def run(self) -> InvoiceResult:
        try:
            rates = self.engine.rates(self.credentials)
        except (TaxRatesUnavailableError, EtimsTransportError) as exc:
            settled = self._settle(
                Settlement(InvoiceStatus.PENDING, "TAX_RATES_UNAVAILABLE", str(exc), needs_lookup=self.needs_lookup),
                "tax_rates_unavailable",
            )
            raise _Halt(settled, str(exc)) from None
        doc = self.item.document
        problems = document_problems(doc, rates)
        if not problems and doc.is_credit_note:
            original = outbox.original_sale(
                self.engine.store,
                self.item.org_id,
                self.item.original_trader_invoice_no or "",
                self.item.invoice_id,
            )
            verdict = judge_credit_note(doc, original, rates)
            if verdict.waiting_for_original:
                return self._settle(
                    Settlement(
                        InvoiceStatus.PENDING,
                        "CREDIT_NOTE_AWAITING_ORIGINAL",
                        "the credited invoice is not accepted by eTIMS yet; the credit note goes after it",
                        needs_lookup=self.needs_lookup,
                    )
                )
            if verdict.problem:
                problems = [verdict.problem]
            else:
                doc = replace(doc, original_invoice_no=verdict.original_invoice_no)
        if problems:
            return self._invalid(problems)
        try:
            return self._send(doc, rates)
        except _Conflict as conflict:
            return conflict.result

    def _invalid(self, problems: list[Problem]) -> InvoiceResult:
        code = problems[0].code
        message = "; ".join(str(problem) for problem in problems)
        self._record(
            Attempt(
                kind=AttemptKind.VALIDATION,
                outcome=AttemptOutcome.INVALID,
                reason=REASON_INVALID,
                result_code=code,
                result_message=message,
            )
        )
        return self._settle(
            Settlement(InvoiceStatus.INVALID, code, message, retryable=False, needs_lookup=self.needs_lookup),
            REASON_INVALID,
        )

    def _send(self, doc: SaleDocument, rates: TaxRates) -> InvoiceResult:
        policy = self.engine.retry
        totals = doc.totals(rates)
        retries = 0
        saw_duplicate = False
        while self.calls < policy.max_calls:
            if self.needs_lookup and self.invoice_no is not None:
                found = self._lookup()
                if found is not None:
                    return found
                if self.needs_lookup:  # the lookup itself failed: wait, then ask again
                    retries += 1
                    policy.wait(retries)
                    continue
                if saw_duplicate:
                    return self._settle(
                        Settlement(
                            InvoiceStatus.UNKNOWN,
                            "ETIMS_DUPLICATE_UNRESOLVED",
                            f"eTIMS answered 994 for invoice number {self.invoice_no} but has no such sale; "
                            "not resent under a new number. Investigate with KRA before replaying",
                            retryable=False,
                            needs_lookup=True,
                        ),
                        "duplicate_data",
                    )
            self.invoice_no = outbox.write_ahead(
                self.engine.store,
                self.item,
                run_id=self.run_id,
                pin=self.credentials.tin,
                bhf_id=self.credentials.bhf_id,
                totals=totals,
            )
            self.needs_lookup = True
            payload = build_sales_payload(
                tin=self.credentials.tin,
                bhf_id=self.credentials.bhf_id,
                invoice_no=self.invoice_no,
                doc=doc,
                rates=rates,
                confirmed_at=now_utc(),
            )
            response = self._call_save(payload)
            if response is None:
                retries += 1
                policy.wait(retries)
                continue
            meaning = classify_result(response.result_code)
            if meaning.kind == ResultKind.ACCEPTED:
                return self._accept(response.data, via_lookup=False)
            if meaning.kind == ResultKind.REJECTED:
                return self._settle(
                    Settlement(
                        InvoiceStatus.REJECTED,
                        f"ETIMS_{response.result_code}",
                        f"eTIMS {response.result_code} ({meaning.reason}): {response.result_message}",
                        retryable=meaning.retryable_after_fix,
                        needs_lookup=False,
                    ),
                    meaning.reason,
                )
            if meaning.kind == ResultKind.DUPLICATE:
                saw_duplicate = True  # look it up right away: most likely an earlier attempt went through
                continue
            retries += 1
            policy.wait(retries)
        return self._settle(
            Settlement(
                InvoiceStatus.UNKNOWN if self.needs_lookup else InvoiceStatus.PENDING,
                "ETIMS_UNAVAILABLE",
                f"no definite answer from eTIMS after {self.calls} calls; "
                + (
                    "it will be looked up before any resend" if self.needs_lookup else "it will be sent on the next run"
                ),
                needs_lookup=self.needs_lookup,
            ),
            "etims_unavailable",
        )

    def _call_save(self, payload: dict[str, object]) -> EtimsResponse | None:
        self.calls += 1
        started = now_utc()
        try:
            response = self.engine.client.save_sales(self.credentials, payload)
        except EtimsTransportError as exc:
            self._record(_unanswered(AttemptKind.SAVE, exc, started))
            self.latencies.append(exc.latency_seconds)
            return None
        meaning = classify_result(response.result_code)
        accepted = meaning.kind == ResultKind.ACCEPTED
        receipt = parse_receipt(response.data).as_json() if accepted else None
        self._record(
            _answered(
                AttemptKind.SAVE, _OUTCOME_BY_KIND[meaning.kind], meaning.reason, response, started, receipt=receipt
            )
        )
        self.latencies.append(response.latency_seconds)
        return response

    def _lookup(self) -> InvoiceResult | None:
        """Ask eTIMS whether it has this invoice number. Accepted → result; clears needs_lookup if absent."""
        assert self.invoice_no is not None
        self.calls += 1
        started = now_utc()
        try:
            response = self.engine.client.select_invoice(self.credentials, self.invoice_no)
        except EtimsTransportError as exc:
            self._record(_unanswered(AttemptKind.LOOKUP, exc, started))
            return None
        meaning = classify_result(response.result_code)
        if meaning.kind == ResultKind.ACCEPTED and not self._is_ours(response):
            self._record(_answered(AttemptKind.LOOKUP, AttemptOutcome.TRANSIENT, "number_conflict", response, started))
            raise _Conflict(
                self._settle(
                    Settlement(
                        InvoiceStatus.UNKNOWN,
                        "ETIMS_NUMBER_CONFLICT",
                        f"eTIMS holds a different sale under invoice number {self.invoice_no}; not resent. "
                        "Reconcile the numbering with KRA before replaying",
                        retryable=False,
                        needs_lookup=True,
                    ),
                    "number_conflict",
                )
            )
        if meaning.kind == ResultKind.ACCEPTED:
            receipt = parse_receipt(response.data).as_json()
            self._record(
                _answered(AttemptKind.LOOKUP, AttemptOutcome.FOUND, "found", response, started, receipt=receipt)
            )
            return self._accept(response.data, via_lookup=True)
        not_found = meaning.kind == ResultKind.NOT_FOUND
        outcome = AttemptOutcome.NOT_FOUND if not_found else AttemptOutcome.TRANSIENT
        self._record(_answered(AttemptKind.LOOKUP, outcome, meaning.reason, response, started))
        if not_found:
            self.needs_lookup = False
        return None

    def _is_ours(self, response: EtimsResponse) -> bool:
        """A found sale is this invoice only if its trader invoice number matches (when eTIMS returns it)."""
        sales = (response.data or {}).get("salesList") or [{}]
        theirs = str(sales[0].get("trdInvcNo") or "").strip()
        return not theirs or theirs == self.item.document.trader_invoice_no

    def _accept(self, data: dict[str, object] | None, via_lookup: bool) -> InvoiceResult:
        receipt = parse_receipt(data)
        return self._settle(
            Settlement(
                InvoiceStatus.ACCEPTED,
                "ACCEPTED_BY_LOOKUP" if via_lookup else None,
                None,
                retryable=False,
                needs_lookup=False,
                accepted_at=now_utc(),
                receipt_no=receipt.receipt_no,
                total_receipt_no=receipt.total_receipt_no,
                internal_data=receipt.internal_data,
                signature=receipt.signature,
                sdc_datetime=receipt_time(receipt),
            ),
            "accepted",
        )

    def _record(self, attempt: Attempt) -> None:
        outbox.record_attempt(
            self.engine.store,
            self.item.invoice_id,
            self.invoice_no,
            org=self.org,
            run_id=self.run_id,
            attempt=attempt,
        )
        log_submission(
            org_id=self.org.org_id,
            invoice_id=self.item.invoice_id,
            invoice_no=self.invoice_no,
            kind=attempt.kind,
            status=attempt.outcome,
            reason=attempt.reason,
            result_code=attempt.result_code,
            latency_seconds=attempt.latency_seconds,
            attempt=self.calls,
            run_id=self.run_id,
            reached_etims=attempt.reached_etims,
        )

    def release_after(self, error: Exception) -> None:
        """Give the claim back after an unexpected error, so the next run need not wait for the lease."""
        status = InvoiceStatus.UNKNOWN if self.needs_lookup else InvoiceStatus.PENDING
        message = f"internal error ({type(error).__name__}); retried on the next run"
        try:
            self._settle(Settlement(status, "INTERNAL_ERROR", message, needs_lookup=self.needs_lookup))
        except Exception:
            logger.exception("could not release invoice %s; its lease expires on its own", self.item.invoice_id)

    def _settle(self, settlement: Settlement, reason: str | None = None) -> InvoiceResult:
        outbox.settle(self.engine.store, self.item.invoice_id, self.run_id, settlement)
        return InvoiceResult(
            invoice_id=self.item.invoice_id,
            org_id=self.item.org_id,
            issue_date=self.item.issue_date,
            status=settlement.status.value,
            code=settlement.code,
            reason=reason,
            save_latencies=tuple(self.latencies),
            calls=self.calls,
        )
