"""Backfills replace the runbook's loop: 90 days become 3 runs on a real instance; the CLI in-process mode."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest
from dagster import DagsterInstance, RunsFilter
from dagster._core.test_utils import create_test_daemon_workspace_context
from dagster._core.workspace.load_target import ModuleTarget
from dagster._daemon.backfill import execute_backfill_iteration
from sqlalchemy import Engine, func, select

from etims_pipeline.assets.kpi_checks import VENDOR_KPIS
from etims_pipeline.cli.kpis import backfill_progress, launch_kpi_backfill
from etims_pipeline.cli.main import main
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.kpi_models import VendorKpiDaily
from tests.kpis.scenario import build_scenario

REPO = Path(__file__).resolve().parents[2]
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def test_a_90_day_backfill_is_three_runs_of_at_most_31_days(dagster_instance: DagsterInstance) -> None:
    backfill_id = launch_kpi_backfill(dagster_instance, date(2025, 1, 1), date(2025, 3, 31))
    target = ModuleTarget(
        module_name="etims_pipeline.definitions",
        attribute="defs",
        working_directory=str(REPO),
        location_name="etims_pipeline",
    )

    with create_test_daemon_workspace_context(target, dagster_instance) as workspace:
        list(execute_backfill_iteration(workspace, logging.getLogger("test_backfill")))

    runs = dagster_instance.get_runs(filters=RunsFilter(tags={"dagster/backfill": backfill_id}))
    ranges = sorted((run.tags[RANGE_START], run.tags[RANGE_END]) for run in runs)
    assert ranges == [("2025-01-01", "2025-01-31"), ("2025-02-01", "2025-03-03"), ("2025-03-04", "2025-03-31")]
    assert all(run.asset_selection == {VENDOR_KPIS} for run in runs)
    status, finished, created, materialized = backfill_progress(dagster_instance, backfill_id, {"2025-01-01"})
    assert (status, finished, created, materialized) == ("REQUESTED", 0, 3, 0)  # queued: no run worker in a test


def test_backfill_kpis_in_process_computes_the_range_in_chunks(
    sqlite_engine: Engine, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build_scenario(sqlite_engine)
    monkeypatch.setenv("KPIS_ENABLED", "true")

    code = main(
        ["backfill-kpis", "--start", "2026-10-01", "--end", "2026-11-23", "--in-process", "--database-url", sqlite_url]
    )

    assert code == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == ["2026-10-01..2026-10-31", "2026-11-01..2026-11-23"]
    with session_scope(sqlite_engine) as session:
        assert session.scalar(select(func.count()).select_from(VendorKpiDaily)) == 3 * 54


def test_backfill_kpis_in_process_refuses_when_the_flag_is_off(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KPIS_ENABLED", "false")
    code = main(
        ["backfill-kpis", "--start", "2026-11-01", "--end", "2026-11-02", "--in-process", "--database-url", sqlite_url]
    )
    assert code == 2 and "KPIS_ENABLED is off" in capsys.readouterr().out
