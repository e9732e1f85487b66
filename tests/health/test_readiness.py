"""Readiness rounds: hard timeouts, one probe in flight per dependency, single flight, cache, safe errors."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from etims_pipeline.health.probes import Check
from etims_pipeline.health.readiness import Readiness
from tests.health.conftest import HEALTHY, fixed

SECRET_URL = "postgresql+psycopg2://etims:hunter2@db.internal:5432/etims"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class HangingProbe:
    """Blocks until released, counting how often it was started."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def __call__(self) -> Check:
        self.calls += 1
        self.release.wait()
        return Check(True)


def test_a_healthy_round_has_the_runbook_shape() -> None:
    readiness = Readiness(HEALTHY)
    body = readiness.check().as_json(time.monotonic())
    readiness.close()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "latency_ms": 0.4}
    assert body["dagster_storage"] == {"ok": True}
    assert body["run_queue"] == {"ok": True, "queue_depth": 3}
    assert body["daemon"] == {"ok": True, "heartbeats": {"SENSOR": {"age_seconds": 2.0, "errors": 0}}}
    assert str(body["checked_at"]).endswith("+00:00")
    assert isinstance(body["age_seconds"], float)


def test_a_hanging_probe_times_out_within_the_bound_and_is_not_started_twice() -> None:
    hanging = HangingProbe()
    readiness = Readiness({**HEALTHY, "database": hanging}, timeout=0.2, ttl=0)
    try:
        for _ in range(3):
            started = time.monotonic()
            report = readiness.check()
            assert time.monotonic() - started < 1.0
            assert not report.ok
            assert report.checks["database"].as_json() == {"ok": False, "error": "timeout after 0.2s"}
            assert report.checks["run_queue"].ok  # the others still answer
        assert hanging.calls == 1  # later rounds waited on the same hung call
        hanging.release.set()
    finally:
        hanging.release.set()
        readiness.close()


def test_answers_are_cached_for_the_ttl() -> None:
    clock = FakeClock()
    calls = []

    def counting() -> Check:
        calls.append(clock.now)
        return Check(True)

    readiness = Readiness({"database": counting}, ttl=1.0, clock=clock)
    first = readiness.check()
    clock.now += 0.5
    assert readiness.check() is first
    clock.now += 0.6
    assert readiness.check() is not first
    readiness.close()
    assert calls == [100.0, 101.1]
    assert readiness.rounds == 2


def test_a_stale_answer_stays_usable_only_for_ttl_plus_timeout() -> None:
    clock = FakeClock()
    readiness = Readiness({"database": lambda: Check(True)}, timeout=0.5, ttl=1.0, clock=clock)
    first = readiness.check()
    clock.now += 1.2  # past the TTL: not fresh, still usable while a refresh runs
    assert readiness.fresh() is None
    assert readiness.usable() is first
    clock.now += 0.4  # 1.6 s old: past TTL + timeout, so a request must wait for the new round
    assert readiness.usable() is None
    readiness.close()


def test_concurrent_callers_share_one_round() -> None:
    hanging = HangingProbe()
    readiness = Readiness({"database": hanging}, timeout=10, ttl=60)
    reports = []
    callers = [threading.Thread(target=lambda: reports.append(readiness.check())) for _ in range(50)]
    for caller in callers:
        caller.start()
    hanging.release.set()
    for caller in callers:
        caller.join(timeout=10)
    readiness.close()
    assert len(reports) == 50
    assert len({id(report) for report in reports}) == 1
    assert hanging.calls == 1
    assert readiness.rounds == 1


def test_a_failing_probe_shows_its_type_and_a_fixed_message_only(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> Check:
        raise ConnectionError(f"could not connect to {SECRET_URL}\nTraceback (most recent call last): ...")

    readiness = Readiness({**HEALTHY, "database": broken})
    with caplog.at_level(logging.WARNING, logger="etims_pipeline.health"):
        body = readiness.check().as_json(time.monotonic())
    readiness.close()
    assert body["status"] == "unavailable"
    assert body["database"] == {
        "ok": False,
        "error": "ConnectionError: database probe failed; see the health service log",
    }
    assert "hunter2" not in str(body) and "Traceback" not in str(body)
    assert "db.internal" in caplog.text and "hunter2" not in caplog.text  # the log has details, masked


def test_a_dependency_that_answers_unwell_fails_the_round() -> None:
    stale = Check(
        False, {"heartbeats": {}}, "no heartbeat within 150s from SENSOR; is exactly one dagster-daemon running?"
    )
    readiness = Readiness({**HEALTHY, "daemon": fixed(stale)})
    body = readiness.check().as_json(time.monotonic())
    readiness.close()
    assert body["status"] == "unavailable"
    assert body["daemon"] == {"ok": False, "heartbeats": {}, "error": stale.error}
