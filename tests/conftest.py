"""Shared fixtures: a migrated operational database on SQLite and, when marked, on PostgreSQL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from dagster import DagsterInstance, ExecuteInProcessResult, instance_for_test, materialize
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from etims_pipeline.assets.submissions import submitted_invoices
from etims_pipeline.sandbox.config import SandboxConfig
from etims_pipeline.sandbox.server import SandboxServer, build_server
from etims_pipeline.store.db import make_engine
from etims_pipeline.store.migrate import upgrade_to_head
from tests.dagster_support import MaterializeFn, resources
from tests.databases import fresh_database

POSTGRES_ADMIN_URL = os.environ.get("ETIMS_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'etims.sqlite3'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with ExitStack() as stack:
        try:
            _, url = stack.enter_context(fresh_database(POSTGRES_ADMIN_URL))
        except OperationalError as exc:  # pragma: no cover - depends on the machine
            pytest.fail(f"PostgreSQL is required for this test and is not reachable: {exc}")
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """The operational database URL, once per backend."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated operational database, on each backend."""
    eng = make_engine(database_url)
    upgrade_to_head(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    """A migrated SQLite operational database, for tests that need only one backend."""
    eng = make_engine(sqlite_url)
    upgrade_to_head(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """The eTIMS sandbox on an ephemeral port, serving from a thread (real HTTP, same process)."""
    server = build_server("127.0.0.1", 0, SandboxConfig())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.stop()
    thread.join(timeout=10)


@pytest.fixture
def sandbox_process() -> Iterator[str]:
    """The eTIMS sandbox as its own process, as in production; yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "etims_pipeline.sandbox", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    ready = process.stdout.readline()
    match = re.search(r"(http://\S+/etims-api/)", ready)
    if not match:
        process.kill()
        pytest.fail(f"sandbox did not start: {ready!r}")
    yield match.group(1)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=15)


@pytest.fixture
def dagster_instance() -> Iterator[DagsterInstance]:
    with instance_for_test() as instance:
        yield instance


@pytest.fixture
def materialize_day(dagster_instance: DagsterInstance) -> MaterializeFn:
    """Materialize submitted_invoices for one partition (or a range given as tags) in-process."""

    def run(
        base_url: str,
        database_url: str,
        partition_key: str = "2026-11-23",
        *,
        etims_enabled: str = "true",
        org_ids: list[int] | None = None,
        tags: dict[str, str] | None = None,
        replay: bool = False,
    ) -> ExecuteInProcessResult:
        run_config = {"ops": {"submitted_invoices": {"config": {"org_ids": org_ids or [], "replay": replay}}}}
        return materialize(
            [submitted_invoices],
            partition_key=None if tags else partition_key,
            resources=resources(base_url, database_url, etims_enabled),
            instance=dagster_instance,
            run_config=run_config,
            tags=tags,
            raise_on_error=False,
        )

    return run
