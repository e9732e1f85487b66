"""The code location loads and has the shape the UI and the runbook rely on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dagster import AssetCheckKey, AssetKey, DefaultScheduleStatus, DefaultSensorStatus, Definitions

from etims_pipeline.definitions import defs
from etims_pipeline.nairobi_time import NAIROBI_TZ_NAME
from etims_pipeline.partitions import DAILY_BACKFILL_POLICY, NAIROBI_DAILY

REPO = Path(__file__).resolve().parents[1]


def test_the_code_location_loads() -> None:
    Definitions.validate_loadable(defs)


def test_assets_checks_and_jobs() -> None:
    graph = defs.resolve_asset_graph()
    assert AssetKey("submitted_invoices") in graph.get_all_asset_keys()
    checks = {key.name for key in graph.asset_check_keys if key.asset_key == AssetKey("submitted_invoices")}
    assert checks == {
        "org_guard_enforced",
        "orgs_awaiting_verification",
        "no_invoice_accepted_twice",
        "accepted_invoices_have_receipts",
    }
    assert defs.resolve_job_def("submit_invoices_job") is not None
    guard = graph.get_check_spec(AssetCheckKey(AssetKey("submitted_invoices"), "org_guard_enforced"))
    assert guard.blocking


def test_vendor_kpis_asset_check_job_and_schedule() -> None:
    graph = defs.resolve_asset_graph()
    node = graph.get(AssetKey("vendor_kpis"))
    assert node.partitions_def == NAIROBI_DAILY
    assert node.backfill_policy == DAILY_BACKFILL_POLICY
    assert node.parent_keys == {AssetKey("submitted_invoices")}
    assert node.freshness_policy is not None
    check = graph.get_check_spec(AssetCheckKey(AssetKey("vendor_kpis"), "kpis_reconcile_with_store"))
    assert check.blocking
    job = defs.resolve_job_def("daily_close_job")
    assert job.asset_layer.executable_asset_keys == {AssetKey("submitted_invoices"), AssetKey("vendor_kpis")}
    schedule = defs.resolve_schedule_def("vendor_kpis_daily_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 0 * * *", NAIROBI_TZ_NAME)
    assert schedule.job_name == "daily_close_job"
    assert schedule.default_status == DefaultScheduleStatus.RUNNING


def test_the_replay_sensor_runs_by_default_and_targets_the_submission_job() -> None:
    sensor = defs.resolve_sensor_def("replay_fixed_orgs")
    assert sensor.default_status == DefaultSensorStatus.RUNNING
    assert sensor.job_name == "submit_invoices_job"
    assert sensor.minimum_interval_seconds == 30
    assert set(sensor.required_resource_keys) == {"operational_db"}


def test_partitions_are_nairobi_days_including_today() -> None:
    assert NAIROBI_DAILY.timezone == NAIROBI_TZ_NAME
    assert NAIROBI_DAILY.end_offset == 1
    assets = defs.resolve_asset_graph()
    node = assets.get(AssetKey("submitted_invoices"))
    assert node.partitions_def == NAIROBI_DAILY
    assert node.pools == {"etims_api"}


def test_dagster_cli_validates_the_code_location(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "etims_pipeline.definitions"],
        check=False,
        cwd=REPO,
        env={"DAGSTER_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
