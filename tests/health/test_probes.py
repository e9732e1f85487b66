"""Each probe against the real thing: a migrated database, a Dagster instance with runs and heartbeats."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter, instance_for_test
from dagster._daemon.types import DaemonHeartbeat
from sqlalchemy import Engine, text

from etims_pipeline.health.database import health_engine
from etims_pipeline.health.probes import (
    daemon_probe,
    dagster_storage_probe,
    database_probe,
    default_probes,
    run_queue_probe,
)
from etims_pipeline.health.readiness import Readiness
from tests.conftest import POSTGRES_ADMIN_URL

NOW = 1_800_000_000.0


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with instance_for_test() as test_instance:
        yield test_instance


def _beat(instance: DagsterInstance, age: float, daemon_types: list[str]) -> None:
    for daemon_type in daemon_types:
        instance.add_daemon_heartbeat(DaemonHeartbeat(NOW - age, daemon_type, "test-daemon", None))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens once the socket is closed


def test_database_probe_reports_latency(engine: Engine) -> None:
    check = database_probe(engine, statement_timeout=0.5)()
    assert check.ok
    assert 0 <= float(str(check.details["latency_ms"])) < 1000


class CountingInstance:
    """Stands in for the instance: a queued run cannot be stored without a code location's origin."""

    def __init__(self) -> None:
        self.filters: list[RunsFilter | None] = []

    def get_runs_count(self, filters: RunsFilter | None = None) -> int:
        self.filters.append(filters)
        return 2


def test_run_queue_depth_counts_queued_runs_only(instance: DagsterInstance) -> None:
    assert run_queue_probe(instance)().details == {"queue_depth": 0}  # the real query runs
    fake = CountingInstance()
    assert run_queue_probe(fake)().details == {"queue_depth": 2}  # type: ignore[arg-type]
    assert fake.filters == [RunsFilter(statuses=[DagsterRunStatus.QUEUED])]


def test_dagster_storage_probe_answers(instance: DagsterInstance) -> None:
    assert dagster_storage_probe(instance)().ok


def test_daemon_probe_wants_a_recent_heartbeat_from_every_required_daemon(instance: DagsterInstance) -> None:
    required = list(instance.get_required_daemon_types())
    assert {"SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR", "BACKFILL"} <= set(required)
    probe = daemon_probe(instance, max_age=60, now=lambda: NOW)

    missing = probe()
    assert not missing.ok and "SENSOR" in str(missing.error)

    _beat(instance, 5, required)
    fresh = probe()
    assert fresh.ok
    assert fresh.details["heartbeats"] == {daemon: {"age_seconds": 5.0, "errors": 0} for daemon in sorted(required)}

    _beat(instance, 61, ["SENSOR"])
    stale = probe()
    assert not stale.ok
    assert stale.error == "no heartbeat within 60s from SENSOR; is exactly one dagster-daemon running?"


@pytest.mark.postgres
def test_the_health_engine_bounds_connects_and_statements(postgres_url: str) -> None:
    engine = health_engine(postgres_url, connect_timeout=0.5)
    with engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar() == "15s"
    check = database_probe(engine, statement_timeout=0.25)()
    engine.dispose()
    assert check.ok


@pytest.mark.postgres
def test_an_unreachable_database_is_named_without_its_password(instance: DagsterInstance) -> None:
    host = POSTGRES_ADMIN_URL.split("@", 1)[1].split(":", 1)[0]
    url = f"postgresql+psycopg2://etims:hunter2@{host}:{_closed_port()}/etims"
    engine = health_engine(url, connect_timeout=0.5)
    readiness = Readiness(default_probes(engine, instance, timeout=2, daemon_max_age=60), timeout=2)
    started = time.monotonic()
    body = readiness.check().as_json(time.monotonic())
    readiness.close()
    engine.dispose()
    assert time.monotonic() - started < 3
    assert body["status"] == "unavailable"
    assert body["database"] == {
        "ok": False,
        "error": "OperationalError: database probe failed; see the health service log",
    }
    assert "hunter2" not in str(body)
