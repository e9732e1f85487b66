"""Attempt records: one row per submission attempt in the append-only log, built from what eTIMS answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert

from etims_pipeline.etims.client import EtimsResponse, EtimsTimeout, EtimsTransportError
from etims_pipeline.etims.codes import ResultKind
from etims_pipeline.nairobi_time import now_utc
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.models import AttemptKind, AttemptOutcome, SubmissionAttempt
from etims_pipeline.submission.guard import OrgSnapshot

OUTCOME_BY_KIND = {
    ResultKind.ACCEPTED: AttemptOutcome.ACCEPTED,
    ResultKind.REJECTED: AttemptOutcome.REJECTED,
    ResultKind.TRANSIENT: AttemptOutcome.TRANSIENT,
    ResultKind.DUPLICATE: AttemptOutcome.DUPLICATE,
    ResultKind.NOT_FOUND: AttemptOutcome.TRANSIENT,
}


@dataclass(frozen=True)
class Attempt:
    kind: str
    outcome: str
    reason: str | None = None
    result_code: str | None = None
    result_message: str | None = None
    latency_seconds: float | None = None
    http_status: int | None = None
    reached_etims: bool = False
    receipt: dict[str, object] | None = None
    requested_at: datetime | None = None


def attempt_row(
    invoice_id: int, invoice_no: int | None, *, org: OrgSnapshot, run_id: str, attempt: Attempt
) -> dict[str, Any]:
    return {
        "invoice_id": invoice_id,
        "org_id": org.org_id,
        "run_id": run_id,
        "kind": attempt.kind,
        "invoice_no": invoice_no,
        "requested_at": attempt.requested_at or now_utc(),
        "latency_seconds": attempt.latency_seconds,
        "http_status": attempt.http_status,
        "result_code": attempt.result_code,
        "result_message": attempt.result_message,
        "outcome": attempt.outcome,
        "reason": attempt.reason,
        "reached_etims": attempt.reached_etims,
        "org_tax_status": org.tax_status,
        "org_pin_valid": org.pin_valid,
        "receipt": attempt.receipt,
    }


def record_attempt(
    engine: Engine,
    invoice_id: int,
    invoice_no: int | None,
    *,
    org: OrgSnapshot,
    run_id: str,
    attempt: Attempt,
) -> None:
    row = attempt_row(invoice_id, invoice_no, org=org, run_id=run_id, attempt=attempt)
    with session_scope(engine) as session:
        session.execute(insert(SubmissionAttempt), [row])


def answered(
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


def unanswered(kind: AttemptKind, error: EtimsTransportError, started: datetime) -> Attempt:
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
