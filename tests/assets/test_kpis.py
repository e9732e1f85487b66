"""The vendor_kpis asset, materialized in-process: values written, idempotence, flag, isolation, check."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pytest
from dagster import DagsterInstance, ExecuteInProcessResult, materialize
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, func, select, update

from etims_pipeline.assets.kpis import vendor_kpis
from etims_pipeline.observability.metrics import render_metrics
from etims_pipeline.resources.feature_flags import FeatureFlagsResource
from etims_pipeline.resources.operational_db import OperationalDatabaseResource
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.kpi_models import KpiJobOutcome, VendorKpiDaily
from tests.factories import line, make_invoice
from tests.kpis.scenario import EMPTY_DAY, FIRST_DAY, LAST_DAY, accepted, build_scenario, nairobi

RANGE_TAGS = {"dagster/asset_partition_range_start": "2026-11-21", "dagster/asset_partition_range_end": "2026-11-23"}


def run_kpis(
    instance: DagsterInstance, database_url: str, *, kpis_enabled: str = "true", tags: dict[str, str] | None = None
) -> ExecuteInProcessResult:
    resources: dict[str, Any] = {
        "operational_db": OperationalDatabaseResource(url=database_url),
        "feature_flags": FeatureFlagsResource(kpis_enabled=kpis_enabled),
    }
    return materialize(
        [vendor_kpis], resources=resources, instance=instance, tags=tags or RANGE_TAGS, raise_on_error=False
    )


def kpi_rows(engine: Engine) -> dict[tuple[int, date], dict[str, object]]:
    with session_scope(engine) as session:
        rows = session.scalars(select(VendorKpiDaily)).all()
        return {
            (row.org_id, row.kpi_date): {
                c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in ("run_id", "computed_at")
            }
            for row in rows
        }


def metadata(result: ExecuteInProcessResult) -> dict[str, object]:
    event = result.asset_materializations_for_node("vendor_kpis")[-1]
    return {key: value.value for key, value in event.metadata.items()}


def test_a_range_run_writes_every_org_day_reconciles_and_tells_the_story(
    sqlite_engine: Engine, sqlite_url: str, dagster_instance: DagsterInstance
) -> None:
    build_scenario(sqlite_engine)

    result = run_kpis(dagster_instance, sqlite_url)

    assert result.success
    rows = kpi_rows(sqlite_engine)
    assert len(rows) == 9  # 3 orgs × 3 days, the empty day included
    assert rows[1, LAST_DAY]["invoice_number_gaps"] == 1 and rows[3, EMPTY_DAY]["invoices_issued"] == 0
    meta = metadata(result)
    assert meta["days"] == "2026-11-21..2026-11-23"
    assert (meta["orgs"], meta["invoices_issued"], meta["accepted"], meta["rejected"], meta["held"]) == (3, 11, 6, 3, 1)
    assert meta["gross_sales"] == 2000.0 and meta["tax"] == 200.0 and meta["orgs_failed"] == 0
    assert meta["acceptance_rate"] == pytest.approx(6 / 9, abs=1e-4)
    assert "| 2 | 5 | 2 | 40.0% |" in str(meta["worst_orgs"])  # org 2: the lowest acceptance rate comes first
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == "kpis_reconcile_with_store" and check.passed


def test_rematerializing_replaces_the_rows_and_follows_changed_input(
    sqlite_engine: Engine, sqlite_url: str, dagster_instance: DagsterInstance
) -> None:
    build_scenario(sqlite_engine)
    assert run_kpis(dagster_instance, sqlite_url).success
    first = kpi_rows(sqlite_engine)

    assert run_kpis(dagster_instance, sqlite_url).success
    assert kpi_rows(sqlite_engine) == first  # same rows, no duplicates (the primary key would refuse them)

    invoice_id = make_invoice(sqlite_engine, 3, nairobi(22, 12), lines=[line(quantity="1")])
    accepted(
        sqlite_engine,
        invoice_id,
        3,
        no=1,
        sent=nairobi(22, 12, 1),
        latency=0.7,
        at=nairobi(22, 12, 2),
        total="116",
        tax="16",
    )
    single_day = {
        "dagster/asset_partition_range_start": "2026-11-22",
        "dagster/asset_partition_range_end": "2026-11-22",
    }
    assert run_kpis(dagster_instance, sqlite_url, tags=single_day).success

    after = kpi_rows(sqlite_engine)
    assert after[3, EMPTY_DAY]["accepted"] == 1 and after[3, EMPTY_DAY]["gross_sales"] == 116
    assert {key: row for key, row in after.items() if key != (3, EMPTY_DAY)} == {
        key: row for key, row in first.items() if key != (3, EMPTY_DAY)
    }


def test_flag_off_fails_fast_with_the_runbook_message(
    sqlite_engine: Engine, sqlite_url: str, dagster_instance: DagsterInstance
) -> None:
    build_scenario(sqlite_engine)

    result = run_kpis(dagster_instance, sqlite_url, kpis_enabled="false")

    assert not result.success
    failure = result.failure_data_for_node("vendor_kpis")
    assert failure is not None and failure.user_failure_data is not None
    assert "KPI job skipped: KPIS_ENABLED is off" in (failure.user_failure_data.description or "")
    assert kpi_rows(sqlite_engine) == {}


def _counter(engine: Engine, name: str) -> dict[str, float]:
    families = text_string_to_metric_families(render_metrics(engine).decode())
    return {
        s.labels["org_id"]: s.value for f in families if f.name == name for s in f.samples if s.name == f"{name}_total"
    }


def test_one_orgs_bad_data_fails_only_that_org_and_is_counted(
    engine: Engine, database_url: str, dagster_instance: DagsterInstance, caplog: pytest.LogCaptureFixture
) -> None:
    build_scenario(engine)
    # Org 2's sale on the 21st carries a negative line: its gross sales break the KPI table's CHECK constraint.
    bad = make_invoice(engine, 2, nairobi(21, 16), lines=[line(quantity="-50", unit_price="100")])
    accepted(
        engine, bad, 2, no=9, sent=nairobi(21, 16, 1), latency=0.5, at=nairobi(21, 16, 2), total="-5800", tax="-800"
    )
    caplog.set_level(logging.INFO, logger="metrics")

    result = run_kpis(dagster_instance, database_url)
    result_again = run_kpis(dagster_instance, database_url)

    assert result.success and result_again.success  # the other orgs' KPIs are written and reconcile
    rows = kpi_rows(engine)
    assert {org for org, _ in rows} == {1, 3}
    assert metadata(result)["orgs_failed"] == 1 and "CHECK" in str(metadata(result)["failed_orgs"]).upper()
    assert _counter(engine, "kpi_jobs_fail") == {"2": 2.0}
    assert _counter(engine, "kpi_jobs_success") == {"1": 2.0, "3": 2.0}
    logged = [(r.metric, r.labels["org_id"]) for r in caplog.records if getattr(r, "event", None) == "metric"]  # type: ignore[attr-defined]
    assert logged.count(("kpi_jobs_fail", "2")) == 2 and logged.count(("kpi_jobs_success", "1")) == 2
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(KpiJobOutcome)) == 6


def test_the_reconciliation_check_fails_on_a_tampered_row(
    sqlite_engine: Engine, sqlite_url: str, dagster_instance: DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    from etims_pipeline.kpis import job
    from etims_pipeline.kpis.store import write_kpis as real_write

    build_scenario(sqlite_engine)

    def tampering_write(*args: Any, **kwargs: Any) -> Any:
        outcomes = real_write(*args, **kwargs)
        with session_scope(sqlite_engine) as session:
            session.execute(
                update(VendorKpiDaily)
                .where(VendorKpiDaily.org_id == 1, VendorKpiDaily.kpi_date == FIRST_DAY)
                .values(accepted=7)
            )
        return outcomes

    monkeypatch.setattr(job, "write_kpis", tampering_write)

    result = run_kpis(dagster_instance, sqlite_url)

    assert not result.success  # blocking check
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed and check.metadata["mismatches"].value == {"accepted": ["11", "6"]}
