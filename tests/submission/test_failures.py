"""Nothing lost, nothing sent twice: timeouts, 5xx, transient codes, 994, crashes and overlapping runs."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select, update

from etims_pipeline.etims.client import EtimsClient, make_http_client
from etims_pipeline.etims.payload import build_sales_payload
from etims_pipeline.nairobi_time import now_utc
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.models import Invoice, SubmissionAttempt, VendorOrg
from etims_pipeline.submission import outbox
from tests.factories import make_invoice, make_org
from tests.submission.conftest import DAY, SandboxControl, SubmitFn

SAVE = "saveTrnsSalesOsdc"
LOOKUP = "selectInvoiceDetails"


def _only_invoice(engine: Engine) -> Invoice:
    with session_scope(engine) as session:
        return session.scalars(select(Invoice)).one()


def _trail(engine: Engine) -> list[tuple[str, str]]:
    with session_scope(engine) as session:
        rows = session.scalars(select(SubmissionAttempt).order_by(SubmissionAttempt.id))
        return [(a.kind, a.outcome) for a in rows]


def _one_org_one_invoice(engine: Engine) -> int:
    make_org(engine, 1)
    return make_invoice(engine, 1, datetime(2026, 11, 23, 9))


def test_timeout_after_etims_committed_is_resolved_by_lookup_not_resend(
    sqlite_engine: Engine, submit: SubmitFn, control: SandboxControl
) -> None:
    _one_org_one_invoice(sqlite_engine)
    control.faults({"endpoint": SAVE, "fault": "hang_after_commit", "times": 1, "hang_seconds": 3})

    submit()

    invoice = _only_invoice(sqlite_engine)
    assert invoice.status == "accepted" and invoice.status_code == "ACCEPTED_BY_LOOKUP"
    assert invoice.receipt_signature and not invoice.needs_lookup
    assert _trail(sqlite_engine) == [("save", "timeout"), ("lookup", "found")]
    assert control.ledger()["count"] == 1
    assert control.save_calls() == {("P000000001K", 1): 1}


def test_http_500_before_commit_is_looked_up_then_resent_once(
    sqlite_engine: Engine, submit: SubmitFn, control: SandboxControl
) -> None:
    _one_org_one_invoice(sqlite_engine)
    control.faults({"endpoint": SAVE, "fault": "http_500", "times": 1})

    submit()

    assert _only_invoice(sqlite_engine).status == "accepted"
    assert _trail(sqlite_engine) == [("save", "transient"), ("lookup", "not_found"), ("save", "accepted")]
    assert control.ledger()["count"] == 1


def test_hang_before_commit_then_success(sqlite_engine: Engine, submit: SubmitFn, control: SandboxControl) -> None:
    _one_org_one_invoice(sqlite_engine)
    control.faults({"endpoint": SAVE, "fault": "hang_before_commit", "times": 1, "hang_seconds": 3})

    submit()

    assert _only_invoice(sqlite_engine).status == "accepted"
    assert _trail(sqlite_engine) == [("save", "timeout"), ("lookup", "not_found"), ("save", "accepted")]
    assert control.ledger()["count"] == 1


def test_transient_result_codes_are_retried_after_a_lookup(
    sqlite_engine: Engine, submit: SubmitFn, control: SandboxControl
) -> None:
    _one_org_one_invoice(sqlite_engine)
    control.faults({"endpoint": SAVE, "fault": "result_code", "result_code": "999", "times": 2})

    submit()

    assert _only_invoice(sqlite_engine).status == "accepted"
    assert _trail(sqlite_engine) == [
        ("save", "transient"),
        ("lookup", "not_found"),
        ("save", "transient"),
        ("lookup", "not_found"),
        ("save", "accepted"),
    ]


def test_rejection_codes_end_rejected_with_reason_and_retryability(
    sqlite_engine: Engine, submit: SubmitFn, control: SandboxControl
) -> None:
    make_org(sqlite_engine, 1)
    make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 9))
    control.faults({"endpoint": SAVE, "fault": "result_code", "result_code": "921", "times": 1})

    submit()

    invoice = _only_invoice(sqlite_engine)
    assert (invoice.status, invoice.status_code, invoice.retryable) == ("rejected", "ETIMS_921", True)
    assert "sales_data_not_receivable" in (invoice.status_message or "")
    assert not invoice.needs_lookup


def test_unreachable_etims_leaves_invoices_pending_and_halts_only_that_org(
    sqlite_engine: Engine, submit: SubmitFn, caplog: pytest.LogCaptureFixture
) -> None:
    make_org(sqlite_engine, 1, cmc_key="k" * 64)
    make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 9))
    make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 10))
    with make_http_client(
        "http://127.0.0.1:9/etims-api/", timeout_seconds=0.5, connect_timeout_seconds=0.5, max_connections=2
    ) as http:
        report = submit(client=EtimsClient(http))

    with session_scope(sqlite_engine) as session:
        statuses = [inv.status_code for inv in session.scalars(select(Invoice).order_by(Invoice.issued_at))]
    assert statuses == ["TAX_RATES_UNAVAILABLE", None]
    assert report.orgs[0].halted_reason
    assert "could not release" not in caplog.text  # a halt is settled, not an internal error to clean up


def test_connect_failures_during_save_leave_the_invoice_pending_for_the_next_run(
    sqlite_engine: Engine, submit: SubmitFn, control: SandboxControl
) -> None:
    _one_org_one_invoice(sqlite_engine)
    control.faults({"endpoint": SAVE, "fault": "http_500", "times": 10})

    submit(max_calls=3)

    invoice = _only_invoice(sqlite_engine)
    assert (invoice.status, invoice.status_code, invoice.needs_lookup) == (
        "unknown",
        "ETIMS_UNAVAILABLE",
        True,
    )
    control.faults()
    submit(run_id="run-2")
    assert _only_invoice(sqlite_engine).status == "accepted"
    assert control.ledger()["count"] == 1


def _send_directly(engine: Engine, client: EtimsClient, invoice_no: int) -> None:
    """Put the invoice at eTIMS behind the pipeline's back, as a crashed run would have."""
    from etims_pipeline.etims.client import DeviceCredentials
    from etims_pipeline.etims.secret import Secret

    items = outbox.open_work(engine, 1, DAY, DAY)
    with session_scope(engine) as session:
        org = session.get(VendorOrg, 1)
        assert org is not None and org.cmc_key and org.kra_pin
        credentials = DeviceCredentials(org.kra_pin, org.bhf_id, Secret(org.cmc_key))
    from etims_pipeline.etims.tax import TaxRates
    from etims_pipeline.sandbox.config import DEFAULT_TAX_RATES

    payload = build_sales_payload(
        tin=credentials.tin,
        bhf_id=credentials.bhf_id,
        invoice_no=invoice_no,
        doc=items[0].document,
        rates=TaxRates(DEFAULT_TAX_RATES),
        confirmed_at=now_utc(),
    )
    assert client.save_sales(credentials, payload).result_code == "000"


@pytest.fixture
def initialised_org(sqlite_engine: Engine, submit: SubmitFn) -> None:
    """Org 1 with its device initialised (one accepted invoice on the previous day)."""
    make_org(sqlite_engine, 1)
    make_invoice(sqlite_engine, 1, datetime(2026, 11, 22, 9))
    submit(first_day=DAY - timedelta(days=1))


def test_crash_after_send_is_recovered_by_lookup_when_the_lease_expires(
    initialised_org: None,
    sqlite_engine: Engine,
    submit: SubmitFn,
    http_client: EtimsClient,
    control: SandboxControl,
) -> None:
    invoice_id = make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 9))
    _send_directly(sqlite_engine, http_client, invoice_no=2)
    with session_scope(sqlite_engine) as session:  # what a run that died mid-call leaves behind
        session.execute(
            update(Invoice)
            .where(Invoice.id == invoice_id)
            .values(
                status="sending",
                claimed_by="dead-run",
                claim_expires_at=now_utc() - timedelta(seconds=1),
                invoice_no=2,
                needs_lookup=True,
            )
        )

    submit(run_id="run-2")

    with session_scope(sqlite_engine) as session:
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None and invoice.status == "accepted"
    assert control.save_calls()[("P000000001K", 2)] == 1


def test_a_live_claim_of_another_run_is_left_alone(sqlite_engine: Engine, submit: SubmitFn) -> None:
    invoice_id = _one_org_one_invoice(sqlite_engine)
    with session_scope(sqlite_engine) as session:
        session.execute(
            update(Invoice)
            .where(Invoice.id == invoice_id)
            .values(
                status="sending",
                claimed_by="other-run",
                claim_expires_at=now_utc() + timedelta(minutes=5),
            )
        )
    report = submit()
    assert report.invoices == []
    assert _only_invoice(sqlite_engine).claimed_by == "other-run"


def test_994_is_reconciled_by_lookup_never_resent_under_a_new_number(
    initialised_org: None,
    sqlite_engine: Engine,
    submit: SubmitFn,
    http_client: EtimsClient,
    control: SandboxControl,
) -> None:
    invoice_id = make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 9))
    _send_directly(sqlite_engine, http_client, invoice_no=2)
    with session_scope(sqlite_engine) as session:  # the number is reserved but the pipeline thinks it unsent
        session.execute(update(Invoice).where(Invoice.id == invoice_id).values(invoice_no=2))

    submit(run_id="run-2")

    with session_scope(sqlite_engine) as session:
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None and (invoice.status, invoice.invoice_no) == ("accepted", 2)
        trail = [
            (a.kind, a.outcome)
            for a in session.scalars(
                select(SubmissionAttempt)
                .where(SubmissionAttempt.invoice_id == invoice_id)
                .order_by(SubmissionAttempt.id)
            )
        ]
    assert trail == [("save", "duplicate"), ("lookup", "found")]
    assert control.save_calls()[("P000000001K", 2)] == 2  # one direct, one answered 994; still one sale
    assert control.ledger()["count"] == 2


def test_overlapping_runs_accept_each_invoice_exactly_once(
    engine: Engine, sandbox: object, control: SandboxControl, submit: SubmitFn
) -> None:
    for org in range(1, 5):
        make_org(engine, org)
        for hour in range(8, 14):
            make_invoice(engine, org, datetime(2026, 11, 23, hour))
    control.faults(latency_ms=5)
    base_url = control.root + "/etims-api/"
    errors: list[BaseException] = []

    def run(run_id: str) -> None:
        try:
            with make_http_client(base_url, timeout_seconds=5, connect_timeout_seconds=1, max_connections=8) as http:
                submit(engine, client=EtimsClient(http), run_id=run_id)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"run-{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    with session_scope(engine) as session:
        invoices = list(session.scalars(select(Invoice)))
    assert {inv.status for inv in invoices} == {"accepted"}
    assert control.ledger()["count"] == 24
    assert set(control.save_calls().values()) == {1}
    for org in range(1, 5):
        numbers = sorted(inv.invoice_no or 0 for inv in invoices if inv.org_id == org)
        assert numbers == list(range(1, 7))


def test_an_unexpected_error_after_the_claim_gives_the_invoice_back_at_once(
    sqlite_engine: Engine, submit: SubmitFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    _one_org_one_invoice(sqlite_engine)

    def broken(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("disk full")

    monkeypatch.setattr("etims_pipeline.submission.invoice_flow.build_sales_payload", broken)
    report = submit()

    invoice = _only_invoice(sqlite_engine)
    assert (invoice.status, invoice.status_code, invoice.claimed_by) == ("unknown", "INTERNAL_ERROR", None)
    assert invoice.needs_lookup  # the number was reserved and marked possibly sent before the failure
    assert report.orgs[0].error == "RuntimeError: disk full"
    monkeypatch.undo()
    submit(run_id="run-2")
    assert _only_invoice(sqlite_engine).status == "accepted"


def test_refreshing_the_tax_rate_cache_twice_is_an_upsert(sqlite_engine: Engine) -> None:
    from decimal import Decimal

    from etims_pipeline.etims.tax import TaxRates
    from etims_pipeline.submission.rates import cached_rates, store_rates

    rates = {band: Decimal(rate) for band, rate in zip("ABCDE", (0, 16, 0, 0, 8), strict=True)}
    store_rates(sqlite_engine, TaxRates(rates))
    store_rates(sqlite_engine, TaxRates({**rates, "E": Decimal(10)}))
    cached = cached_rates(sqlite_engine, timedelta(hours=1))
    assert cached is not None and cached.by_band["E"] == Decimal(10)
