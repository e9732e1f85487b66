"""One claimed invoice in one run: validate, check credit-note rules, send, and resolve every doubt by lookup.

The state machine: a definite answer settles the invoice (accepted, rejected, invalid); anything that may
have reached eTIMS (timeout, 5xx, transient code, 994) is looked up with `selectInvoiceDetails` before any
resend; a lookup that finds another sale under the number stops with a conflict, never a new number.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import Engine

from etims_pipeline.etims.client import (
    DeviceCredentials,
    EtimsClient,
    EtimsResponse,
    EtimsTransportError,
    parse_receipt,
    receipt_time,
)
from etims_pipeline.etims.codes import ResultKind, classify_result
from etims_pipeline.etims.document import SaleDocument
from etims_pipeline.etims.payload import build_sales_payload
from etims_pipeline.etims.tax import TaxRates
from etims_pipeline.etims.validation import Problem, document_problems
from etims_pipeline.nairobi_time import now_utc
from etims_pipeline.observability.logging import log_submission
from etims_pipeline.store.models import AttemptKind, AttemptOutcome, InvoiceStatus
from etims_pipeline.submission import outbox
from etims_pipeline.submission.attempts import OUTCOME_BY_KIND, Attempt, answered, record_attempt, unanswered
from etims_pipeline.submission.credit_notes import judge_credit_note
from etims_pipeline.submission.guard import OrgSnapshot
from etims_pipeline.submission.originals import original_sale
from etims_pipeline.submission.outbox import Settlement, WorkItem
from etims_pipeline.submission.rates import TaxRatesUnavailableError
from etims_pipeline.submission.results import InvoiceResult
from etims_pipeline.submission.retry import RetryPolicy

logger = logging.getLogger(__name__)

REASON_INVALID = "invalid_invoice"


@dataclass(frozen=True)
class InvoiceServices:
    """What the state machine needs from the run: the store, the client, the rates, the retry policy."""

    store: Engine
    client: EtimsClient
    rates: Callable[[DeviceCredentials], TaxRates]
    retry: RetryPolicy


class OrgHalted(Exception):
    """eTIMS is unavailable for this org: stop its remaining invoices for this run."""

    def __init__(self, result: InvoiceResult, message: str) -> None:
        super().__init__(message)
        self.result = result


class _Conflict(Exception):
    """The lookup found somebody else's sale under this invoice's number: stop, never resend."""

    def __init__(self, result: InvoiceResult) -> None:
        super().__init__(result.code)
        self.result = result


class InvoiceSubmission:
    """The state machine for one claimed invoice in one run."""

    def __init__(
        self,
        services: InvoiceServices,
        item: WorkItem,
        org: OrgSnapshot,
        credentials: DeviceCredentials,
        run_id: str,
    ) -> None:
        self.services = services
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
            rates = self.services.rates(self.credentials)
        except (TaxRatesUnavailableError, EtimsTransportError) as exc:
            settled = self._settle(
                Settlement(InvoiceStatus.PENDING, "TAX_RATES_UNAVAILABLE", str(exc), needs_lookup=self.needs_lookup),
                "tax_rates_unavailable",
            )
            raise OrgHalted(settled, str(exc)) from None
        doc = self.item.document
        problems = document_problems(doc, rates)
        if not problems and doc.is_credit_note:
            original = original_sale(
                self.services.store,
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
        policy = self.services.retry
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
                self.services.store,
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
        unavailable = self._settle(
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
        raise OrgHalted(unavailable, "eTIMS unavailable after retries")

    def _call_save(self, payload: dict[str, object]) -> EtimsResponse | None:
        self.calls += 1
        started = now_utc()
        try:
            response = self.services.client.save_sales(self.credentials, payload)
        except EtimsTransportError as exc:
            self._record(unanswered(AttemptKind.SAVE, exc, started))
            self.latencies.append(exc.latency_seconds)
            return None
        meaning = classify_result(response.result_code)
        accepted = meaning.kind == ResultKind.ACCEPTED
        receipt = parse_receipt(response.data).as_json() if accepted else None
        self._record(
            answered(
                AttemptKind.SAVE, OUTCOME_BY_KIND[meaning.kind], meaning.reason, response, started, receipt=receipt
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
            response = self.services.client.select_invoice(self.credentials, self.invoice_no)
        except EtimsTransportError as exc:
            self._record(unanswered(AttemptKind.LOOKUP, exc, started))
            return None
        meaning = classify_result(response.result_code)
        if meaning.kind == ResultKind.ACCEPTED and not self._is_ours(response):
            self._record(answered(AttemptKind.LOOKUP, AttemptOutcome.TRANSIENT, "number_conflict", response, started))
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
                answered(AttemptKind.LOOKUP, AttemptOutcome.FOUND, "found", response, started, receipt=receipt)
            )
            return self._accept(response.data, via_lookup=True)
        not_found = meaning.kind == ResultKind.NOT_FOUND
        outcome = AttemptOutcome.NOT_FOUND if not_found else AttemptOutcome.TRANSIENT
        self._record(answered(AttemptKind.LOOKUP, outcome, meaning.reason, response, started))
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
        record_attempt(
            self.services.store,
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
        outbox.settle(self.services.store, self.item.invoice_id, self.run_id, settlement)
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
