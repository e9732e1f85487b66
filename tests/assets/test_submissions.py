"""The submitted_invoices asset, materialized in-process: metadata, checks, flags, secrets."""

from __future__ import annotations

import json
import logging
from datetime import datetime

import pytest
from dagster import AssetCheckEvaluation, AssetKey, DagsterInstance
from sqlalchemy import Engine, update

from etims_pipeline.sandbox.server import SandboxServer
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.models import SubmissionAttempt, VendorOrg
from tests.dagster_support import MaterializeFn
from tests.factories import line, make_invoice, make_org


def _metadata(result: object) -> dict[str, object]:
    events = result.asset_materializations_for_node("submitted_invoices")  # type: ignore[attr-defined]
    return {key: value.value for key, value in events[-1].metadata.items()}


def _checks(result: object) -> dict[str, AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}  # type: ignore[attr-defined]


@pytest.fixture
def day_of_work(sqlite_engine: Engine) -> None:
    make_org(sqlite_engine, 1)
    make_org(sqlite_engine, 2, tax_status="PENDING")
    make_org(sqlite_engine, 3)
    for hour in (9, 10, 11):
        make_invoice(sqlite_engine, 1, datetime(2026, 11, 23, hour))
        make_invoice(sqlite_engine, 2, datetime(2026, 11, 23, hour))
    make_invoice(sqlite_engine, 3, datetime(2026, 11, 23, 12), lines=[line(tax_band="F")])
    make_invoice(sqlite_engine, 3, datetime(2026, 11, 23, 13))


def test_materializing_a_day_tells_the_story_in_metadata_and_checks(
    day_of_work: None, sandbox: SandboxServer, sqlite_url: str, materialize_day: MaterializeFn
) -> None:
    result = materialize_day(sandbox.base_url, sqlite_url)

    assert result.success
    meta = _metadata(result)
    assert meta["accepted"] == 4 and meta["held"] == 3 and meta["invalid"] == 1
    assert meta["rejections_by_reason"] == {"org_not_verified": 3, "invalid_invoice": 1}
    assert meta["held_invoices_by_org"] == {"2": 3}
    assert meta["orgs_held_by_guard"] == 1
    assert isinstance(meta["latency_p50_seconds"], float) and isinstance(meta["latency_p95_seconds"], float)
    checks = _checks(result)
    assert checks["org_guard_enforced"].passed
    assert checks["no_invoice_accepted_twice"].passed
    assert checks["accepted_invoices_have_receipts"].passed
    awaiting = checks["orgs_awaiting_verification"]
    assert not awaiting.passed and awaiting.severity.value == "WARN"
    assert awaiting.metadata["held_invoices_by_org"].value == {"2": 3}


def test_a_guard_violation_fails_the_blocking_check_and_the_run(
    day_of_work: None,
    sandbox: SandboxServer,
    sqlite_url: str,
    sqlite_engine: Engine,
    materialize_day: MaterializeFn,
) -> None:
    assert materialize_day(sandbox.base_url, sqlite_url).success
    with session_scope(sqlite_engine) as session:  # forge an attempt that reached eTIMS for an unverified org
        session.execute(update(SubmissionAttempt).where(SubmissionAttempt.org_id == 1).values(org_tax_status="PENDING"))

    result = materialize_day(sandbox.base_url, sqlite_url)

    assert not result.success
    guard = _checks(result)["org_guard_enforced"]
    assert not guard.passed and guard.metadata["orgs"].value == [1]


def test_run_config_restricts_the_run_to_the_given_orgs(
    day_of_work: None, sandbox: SandboxServer, sqlite_url: str, materialize_day: MaterializeFn
) -> None:
    result = materialize_day(sandbox.base_url, sqlite_url, org_ids=[3])
    assert result.success
    assert _metadata(result)["invoices_processed"] == 2


def test_flag_off_fails_with_the_runbook_message_and_sends_nothing(
    day_of_work: None,
    sandbox: SandboxServer,
    sqlite_url: str,
    sqlite_engine: Engine,
    materialize_day: MaterializeFn,
) -> None:
    result = materialize_day(sandbox.base_url, sqlite_url, etims_enabled="false")

    assert not result.success
    failure = result.failure_data_for_node("submitted_invoices")
    assert failure is not None and failure.user_failure_data is not None
    assert "ETIMS disabled" in (failure.user_failure_data.description or "")
    with session_scope(sqlite_engine) as session:
        reasons = {a.reason for a in session.query(SubmissionAttempt)}
    assert reasons == {"feature_disabled"}


def test_a_range_run_covers_every_day_in_one_run(
    sandbox: SandboxServer, sqlite_url: str, sqlite_engine: Engine, materialize_day: MaterializeFn
) -> None:
    make_org(sqlite_engine, 1)
    for day in range(17, 24):
        make_invoice(sqlite_engine, 1, datetime(2026, 11, day, 9))
    tags = {
        "dagster/asset_partition_range_start": "2026-11-17",
        "dagster/asset_partition_range_end": "2026-11-23",
    }

    result = materialize_day(sandbox.base_url, sqlite_url, tags=tags)

    assert result.success
    meta = _metadata(result)
    assert meta["accepted"] == 7 and meta["days"] == "2026-11-17..2026-11-23"
    assert len(meta["by_day"]) == 7  # type: ignore[arg-type]


def test_the_cmc_key_never_reaches_logs_or_the_event_log(
    day_of_work: None,
    sandbox: SandboxServer,
    sqlite_url: str,
    sqlite_engine: Engine,
    materialize_day: MaterializeFn,
    dagster_instance: DagsterInstance,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    result = materialize_day(sandbox.base_url, sqlite_url)
    assert result.success
    with session_scope(sqlite_engine) as session:
        keys = [org.cmc_key for org in session.query(VendorOrg) if org.cmc_key]
    assert keys
    event_log = json.dumps([str(record) for record in dagster_instance.all_logs(result.run_id)])
    captured = capsys.readouterr()
    for key in keys:
        assert key not in event_log
        assert key not in caplog.text
        assert key not in captured.out + captured.err
    materialization = dagster_instance.get_latest_materialization_event(AssetKey("submitted_invoices"))
    assert materialization is not None
