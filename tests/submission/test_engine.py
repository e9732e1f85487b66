"""The submission engine against the sandbox over real HTTP: happy path, guard, flags, bad input."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine, select, text

from etims_pipeline.settings import FeatureFlags
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.encrypted import SECRETS_KEY_VARIABLE, new_secrets_key
from etims_pipeline.store.models import Invoice, SubmissionAttempt, VendorOrg
from etims_pipeline.submission import outbox
from tests.factories import line, make_invoice, make_org
from tests.submission.conftest import SandboxControl, SubmitFn


def _invoices(engine: Engine) -> dict[int, Invoice]:
    with session_scope(engine) as session:
        return {inv.id: inv for inv in session.scalars(select(Invoice))}


def _attempts(engine: Engine) -> list[SubmissionAttempt]:
    with session_scope(engine) as session:
        return list(session.scalars(select(SubmissionAttempt).order_by(SubmissionAttempt.id)))


def test_every_invoice_of_verified_orgs_is_accepted_in_number_order(
    sqlite_engine: Engine, submit: SubmitFn, control: SandboxControl
) -> None:
    make_org(sqlite_engine, 1)
    make_org(sqlite_engine, 2)
    ids = [make_invoice(sqlite_engine, org, datetime(2026, 11, 23, 9 + n, 0)) for org in (1, 2) for n in range(3)]

    report = submit()

    invoices = _invoices(sqlite_engine)
    assert {inv.status for inv in invoices.values()} == {"accepted"}
    for org in (1, 2):
        numbers = [inv.invoice_no for inv in sorted(invoices.values(), key=lambda i: i.issued_at) if inv.org_id == org]
        assert numbers == [1, 2, 3]
    accepted = invoices[ids[0]]
    assert accepted.receipt_signature and accepted.receipt_no and accepted.sdc_datetime is not None
    assert accepted.total_amount is not None and str(accepted.total_amount) == "232.00"
    assert control.ledger()["count"] == 6
    assert set(control.save_calls().values()) == {1}
    assert [a.outcome for a in _attempts(sqlite_engine)] == ["accepted"] * 6
    assert len(report.invoices) == 6


def test_device_is_initialised_once_and_its_key_stored(sqlite_engine: Engine, submit: SubmitFn) -> None:
    make_org(sqlite_engine, 1)
    make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 9))
    submit()
    with session_scope(sqlite_engine) as session:
        org = session.get(VendorOrg, 1)
        assert org is not None and org.cmc_key and org.sdc_id
        key = org.cmc_key
    make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 10))
    submit()
    with session_scope(sqlite_engine) as session:
        org = session.get(VendorOrg, 1)
        assert org is not None and org.cmc_key == key
    assert {inv.status for inv in _invoices(sqlite_engine).values()} == {"accepted"}


def test_with_a_secrets_key_the_stored_device_key_is_ciphertext_and_still_signs_requests(
    sqlite_engine: Engine, submit: SubmitFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRETS_KEY_VARIABLE, new_secrets_key())
    make_org(sqlite_engine, 1)
    make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 9))
    submit()  # device initialisation stores the cmcKey eTIMS answered
    make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 10))
    submit()  # the next run reads it back to authenticate

    with sqlite_engine.connect() as connection:
        stored = connection.execute(text("SELECT cmc_key FROM vendor_orgs WHERE id = 1")).scalar_one()
    with session_scope(sqlite_engine) as session:
        org = session.get(VendorOrg, 1)
        assert org is not None and org.cmc_key
        assert stored.startswith("fernet:") and org.cmc_key not in stored
    assert {inv.status for inv in _invoices(sqlite_engine).values()} == {"accepted"}


def test_lost_device_key_blocks_the_org_with_a_clear_code(sqlite_engine: Engine, submit: SubmitFn) -> None:
    make_org(sqlite_engine, 1)
    make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 9))
    submit()
    with session_scope(sqlite_engine) as session:
        org = session.get(VendorOrg, 1)
        assert org is not None
        org.cmc_key = None
    make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 10))
    report = submit()
    assert report.orgs[0].blocked_code == "DEVICE_ALREADY_INSTALLED"
    assert "ask KRA to reset" in (report.orgs[0].blocked_message or "")


def test_guard_holds_unverified_orgs_and_bad_pins_without_calling_etims(
    sqlite_engine: Engine, submit: SubmitFn, control: SandboxControl
) -> None:
    make_org(sqlite_engine, 1)
    make_org(sqlite_engine, 2, tax_status="PENDING")
    make_org(sqlite_engine, 3, kra_pin="X123456789Z")  # VERIFIED, but the PIN is malformed
    for org in (1, 2, 3):
        make_invoice(sqlite_engine, org, datetime(2026, 11, 23, 9))

    submit()

    by_org = {inv.org_id: inv for inv in _invoices(sqlite_engine).values()}
    assert by_org[1].status == "accepted"
    for org in (2, 3):
        assert by_org[org].status == "held"
        assert by_org[org].status_code == "ORG_NOT_VERIFIED"
        assert by_org[org].invoice_no is None
        assert by_org[org].retryable
    assert "tax_status=PENDING" in (by_org[2].status_message or "")
    assert "must start with A" in (by_org[3].status_message or "")
    blocked = [a for a in _attempts(sqlite_engine) if a.kind == "blocked"]
    assert sorted(a.org_id for a in blocked) == [2, 3]
    assert {a.reason for a in blocked} == {"org_not_verified"}
    assert not any(a.reached_etims for a in blocked)
    assert control.ledger()["count"] == 1


def test_an_error_while_checking_an_org_is_org_check_failed_and_contained(
    sqlite_engine: Engine, submit: SubmitFn, monkeypatch: object
) -> None:
    import pytest

    make_org(sqlite_engine, 1)
    make_org(sqlite_engine, 2)
    make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 9))
    make_invoice(sqlite_engine, 2, datetime(2026, 11, 23, 9))
    real = outbox.org_snapshot

    def flaky(session: object, org_id: int) -> object:
        if org_id == 2:
            raise ConnectionError("password=hunter2 host=db")
        return real(session, org_id)  # type: ignore[arg-type]

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setattr(outbox, "org_snapshot", flaky)
    report = submit()

    by_org = {inv.org_id: inv for inv in _invoices(sqlite_engine).values()}
    assert by_org[1].status == "accepted"
    assert by_org[2].status == "pending" and by_org[2].status_code == "ORG_CHECK_FAILED"
    assert "hunter2" not in (by_org[2].status_message or "")
    blocked = [a for a in _attempts(sqlite_engine) if a.kind == "blocked"]
    assert [(a.org_id, a.reason) for a in blocked] == [(2, "org_check_failed")]
    assert {o.org_id: o.blocked_code for o in report.orgs}[2] == "ORG_CHECK_FAILED"


def test_feature_flag_off_sends_nothing_and_records_feature_disabled(
    sqlite_engine: Engine, submit: SubmitFn, control: SandboxControl
) -> None:
    make_org(sqlite_engine, 1)
    make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 9))
    make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 10))

    report = submit(flags=FeatureFlags(debug=False, etims_enabled=False, kpis_enabled=False))

    assert report.feature_disabled
    assert {inv.status for inv in _invoices(sqlite_engine).values()} == {"pending"}
    assert [a.reason for a in _attempts(sqlite_engine)] == ["feature_disabled", "feature_disabled"]
    assert control.ledger()["count"] == 0


def test_malformed_invoices_get_specific_codes_and_the_rest_of_the_day_goes_through(
    sqlite_engine: Engine, submit: SubmitFn
) -> None:
    make_org(sqlite_engine, 1)
    good_before = make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 8))
    bad_band = make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 9), lines=[line(tax_band="F")])
    bad_pin = make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 10), customer_pin="P12")
    bad_total = make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 11), declared_total="999.99")
    good_after = make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 12), declared_total="232.00")

    submit()

    invoices = _invoices(sqlite_engine)
    assert invoices[bad_band].status_code == "INVOICE_BAD_TAX_BAND"
    assert invoices[bad_pin].status_code == "INVOICE_BAD_CUSTOMER_PIN"
    assert invoices[bad_total].status_code == "INVOICE_TOTALS_MISMATCH"
    assert "999.99" in (invoices[bad_total].status_message or "")
    for bad in (bad_band, bad_pin, bad_total):
        assert invoices[bad].status == "invalid" and invoices[bad].invoice_no is None
    assert invoices[good_before].invoice_no == 1 and invoices[good_after].invoice_no == 2
    reasons = [a.reason for a in _attempts(sqlite_engine) if a.kind == "validation"]
    assert reasons == ["invalid_invoice"] * 3


def test_credit_notes_carry_the_original_number_and_may_not_exceed_it(
    sqlite_engine: Engine, submit: SubmitFn, control: SandboxControl
) -> None:
    make_org(sqlite_engine, 1)
    make_invoice(
        sqlite_engine,
        1,
        datetime(2026, 11, 23, 8),
        trader_invoice_no="S-1",
        lines=[line(quantity="5"), line(item_code="KE2NTXU0000002", quantity="1", tax_band="A")],
    )
    ok = make_invoice(
        sqlite_engine,
        1,
        datetime(2026, 11, 23, 9),
        trader_invoice_no="CN-1",
        receipt_type="R",
        original="S-1",
        refund_reason="06",
        lines=[line(quantity="3")],
    )
    too_much = make_invoice(
        sqlite_engine,
        1,
        datetime(2026, 11, 23, 10),
        trader_invoice_no="CN-2",
        receipt_type="R",
        original="S-1",
        refund_reason="06",
        lines=[line(quantity="3")],
    )
    no_reason = make_invoice(
        sqlite_engine,
        1,
        datetime(2026, 11, 23, 11),
        trader_invoice_no="CN-3",
        receipt_type="R",
        original="S-1",
        lines=[line(quantity="1")],
    )

    submit()

    invoices = _invoices(sqlite_engine)
    assert invoices[ok].status == "accepted"
    assert invoices[too_much].status_code == "CREDIT_NOTE_EXCEEDS_ORIGINAL"
    assert "only 2" in (invoices[too_much].status_message or "")
    assert invoices[no_reason].status_code == "CREDIT_NOTE_BAD_REASON"
    sales = {s["trdInvcNo"]: s for s in control.ledger()["sales"]}
    assert sales["CN-1"]["rcptTyCd"] == "R"
    assert set(sales) == {"S-1", "CN-1"}


def test_other_days_and_other_orgs_are_left_alone(sqlite_engine: Engine, submit: SubmitFn) -> None:
    make_org(sqlite_engine, 1)
    make_org(sqlite_engine, 2)
    in_scope = make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, 23, 59))
    next_day = make_invoice(sqlite_engine, 1, datetime(2026, 11, 24, 0, 0))  # 00:00 Nairobi is the next day
    other_org = make_invoice(sqlite_engine, 2, datetime(2026, 11, 23, 12))

    submit(org_ids=(1,))

    invoices = _invoices(sqlite_engine)
    assert invoices[in_scope].status == "accepted"
    assert invoices[next_day].status == "pending"
    assert invoices[other_org].status == "pending"
