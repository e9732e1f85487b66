"""`etims-pipeline serve` as its own process: it starts, answers, names a missing daemon, stops on SIGTERM."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import Engine

from etims_pipeline.cli.serve import READY_LINE
from tests.e2e.stack import REPO, free_port


def test_serve_answers_and_stops_cleanly_on_sigterm(sqlite_engine: Engine, tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "local" / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "DAGSTER_HOME": str(home), "ETIMS_DATABASE_URL": str(sqlite_engine.url)}
    process = subprocess.Popen(
        [sys.executable, "-m", "etims_pipeline.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert READY_LINE in process.stdout.readline()
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 503  # no dagster-daemon runs here
        body = ready.json()
        assert body["database"]["ok"] and body["dagster_storage"]["ok"] and body["run_queue"]["queue_depth"] == 0
        assert not body["daemon"]["ok"] and "SENSOR" in body["daemon"]["error"]
        assert "invoices_submitted_total" in httpx.get(f"{base}/metrics").text
    finally:
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=15)
    assert process.returncode == 0
    assert "warm objects out of the garbage collector" in log  # the heap was frozen before listening


def test_serve_without_dagster_home_says_what_to_set(sqlite_engine: Engine) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "etims_pipeline.cli.main", "serve", "--port", "0"],
        check=False,
        env={"PATH": "/usr/bin:/bin", "ETIMS_DATABASE_URL": str(sqlite_engine.url)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "DAGSTER_INSTANCE_UNAVAILABLE" in result.stderr and "DAGSTER_HOME" in result.stderr
