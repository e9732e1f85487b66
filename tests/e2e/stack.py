"""A production-shaped stack for end-to-end tests: PostgreSQL storage, sandbox, webserver, daemon.

Everything runs as real processes, started from the repository's workspace.yaml and production
dagster.yaml (plus a one-second run-queue dequeue, so tests do not wait five seconds per run).
"""

from __future__ import annotations

import io
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from dagster_graphql import DagsterGraphQLClient
from dagster_graphql.client.query import LAUNCH_PARTITION_BACKFILL_MUTATION

from etims_pipeline.cli.dev import SANDBOX_READY_LINE
from etims_pipeline.devstack.supervisor import ChildSpec, Supervisor
from etims_pipeline.loading.demo import DemoFiles, generate_demo_data
from etims_pipeline.loading.invoices import load_invoices_file
from etims_pipeline.loading.orgs import load_orgs_file
from etims_pipeline.store.db import make_engine
from etims_pipeline.store.encrypted import new_secrets_key
from etims_pipeline.store.migrate import upgrade_to_head
from tests.databases import fresh_database

REPO = Path(__file__).resolve().parents[2]
E2E_PREFIX = "etims_e2e"
FAST_QUEUE = """
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    """Poll `condition` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


@dataclass
class DagsterStack:
    home: Path
    env: dict[str, str]
    webserver_port: int
    sandbox_url: str
    operational_url: str
    supervisor: Supervisor

    @property
    def webserver_url(self) -> str:
        return f"http://127.0.0.1:{self.webserver_port}"

    @property
    def sandbox_root(self) -> str:
        return self.sandbox_url.split("/etims-api/", maxsplit=1)[0]

    def graphql(self) -> DagsterGraphQLClient:
        return DagsterGraphQLClient("127.0.0.1", port_number=self.webserver_port, timeout=60)

    @contextmanager
    def instance(self) -> Iterator[DagsterInstance]:
        """The stack's instance, opened from this test process with the stack's environment."""
        saved = {key: os.environ.get(key) for key in self.env}
        os.environ.update(self.env)
        try:
            with DagsterInstance.from_config(str(self.home)) as instance:
                yield instance
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def launch_partition_backfill(self, asset_keys: list[str], partition_names: list[str]) -> str:
        """POST the launchPartitionBackfill mutation (the Python client has no backfill method)."""
        variables = {
            "backfillParams": {
                "assetSelection": [{"path": [key]} for key in asset_keys],
                "partitionNames": partition_names,
                "tags": [{"key": "etims/trigger", "value": "e2e"}],
            }
        }
        answer = httpx.post(
            f"{self.webserver_url}/graphql",
            json={"query": LAUNCH_PARTITION_BACKFILL_MUTATION, "variables": variables},
            timeout=60,
        ).json()
        result = answer["data"]["launchPartitionBackfill"]
        if result.get("__typename") != "LaunchBackfillSuccess":
            raise AssertionError(f"backfill was not launched: {answer}")
        backfill_id: str = result["backfillId"]
        return backfill_id

    def load_demo(self, workdir: Path, end_date: date, days: int) -> DemoFiles:
        """Migrate the operational database and load 12 demo orgs' invoices of `days` days up to `end_date`."""
        engine = make_engine(self.operational_url)
        upgrade_to_head(engine)
        files = generate_demo_data(workdir / "demo", end_date=end_date, orgs=12, days=days)
        assert not load_orgs_file(engine, files.orgs_path).errors
        assert not load_invoices_file(engine, files.invoices_path).errors
        engine.dispose()
        return files

    def runs(self, statuses: list[DagsterRunStatus] | None = None) -> list[Any]:
        with self.instance() as instance:
            return list(instance.get_runs(RunsFilter(statuses=statuses) if statuses else None))

    def wait_for_runs_to_finish(self, expected: int, timeout: float = 300) -> list[Any]:
        done = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}

        def finished() -> list[Any] | None:
            runs = self.runs()
            if len(runs) >= expected and all(run.status in done for run in runs):
                return runs
            return None

        result: list[Any] = wait_until(finished, timeout, f"{expected} run(s) to finish")
        return result


def stack_env(dagster_db: str, operational_url: str, sandbox_url: str, home: Path) -> dict[str, str]:
    keep = {key: value for key, value in os.environ.items() if not key.startswith(("ETIMS_", "DAGSTER_"))}
    return {
        **keep,
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_USERNAME": "postgres",
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_DB": dagster_db,
        "DAGSTER_PG_PORT": "5432",
        "ETIMS_DATABASE_URL": operational_url,
        "ETIMS_BASE_URL": sandbox_url,
        "ETIMS_ENABLED": "true",
        "KPIS_ENABLED": "true",
        "ETIMS_SECRETS_KEY": new_secrets_key(),  # production-shaped: cmcKeys encrypted at rest
    }


@contextmanager
def dagster_stack(tmp_path: Path, admin_url: str, extra_env: dict[str, str] | None = None) -> Iterator[DagsterStack]:
    """Sandbox + dagster-webserver + dagster-daemon on fresh PostgreSQL databases; all stopped on exit."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text() + FAST_QUEUE)
    with (
        fresh_database(admin_url, E2E_PREFIX) as (dagster_db, _),
        fresh_database(admin_url, E2E_PREFIX) as (_, operational_url),
        Supervisor(echo=io.StringIO(), stop_timeout=30) as supervisor,
    ):
        sandbox_port, webserver_port = free_port(), free_port()
        sandbox_url = f"http://127.0.0.1:{sandbox_port}/etims-api/"
        env = {
            **stack_env(dagster_db, operational_url, sandbox_url, home),
            "ETIMS_WEBSERVER_URL": f"http://127.0.0.1:{webserver_port}",
            **(extra_env or {}),
        }
        workspace = str(REPO / "workspace.yaml")
        supervisor.start(
            ChildSpec(
                "sandbox",
                [sys.executable, "-m", "etims_pipeline.sandbox", "--port", str(sandbox_port)],
                env=env,
                ready_line=SANDBOX_READY_LINE,
            )
        )
        bin_dir = Path(sys.executable).parent
        supervisor.start(
            ChildSpec(
                "webserver",
                [str(bin_dir / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(webserver_port), "-w", workspace],
                env=env,
                cwd=REPO,
                ready_url=f"http://127.0.0.1:{webserver_port}/server_info",
                ready_timeout=240,
            ),
            ChildSpec("daemon", [str(bin_dir / "dagster-daemon"), "run", "-w", workspace], env=env, cwd=REPO),
        )
        yield DagsterStack(home, env, webserver_port, sandbox_url, operational_url, supervisor)
