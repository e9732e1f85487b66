"""The code location loads and has the shape the UI and the runbook rely on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dagster import AssetCheckKey, AssetKey, Definitions

from etims_pipeline.definitions import defs
from etims_pipeline.nairobi_time import NAIROBI_TZ_NAME
from etims_pipeline.partitions import NAIROBI_DAILY

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
