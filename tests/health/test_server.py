"""The HTTP endpoints on a real server (ephemeral port): status codes, shapes, content types, no leaks."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import Engine

from etims_pipeline.health.probes import Check
from etims_pipeline.health.server import PROMETHEUS_CONTENT_TYPE
from etims_pipeline.observability.metrics import render_metrics
from tests.health.conftest import HEALTHY, ServeFn

SECRET_URL = "postgresql+psycopg2://etims:hunter2@db.internal:5432/etims"


def test_healthz_is_liveness_only(serve: ServeFn) -> None:
    never = threading.Event()

    def hung() -> Check:
        never.wait()
        return Check(True)

    server = serve({"database": hung})
    try:
        answer = httpx.get(f"{server.url}/healthz")
    finally:
        never.set()
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}
    assert server.readiness.rounds == 0
    assert answer.headers["server"] == "etims-pipeline-health"


def test_readyz_answers_200_with_every_dependency(serve: ServeFn) -> None:
    answer = httpx.get(f"{serve().url}/readyz")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["status"] == "ok"
    assert {key for key, value in body.items() if isinstance(value, dict)} == set(HEALTHY)
    assert body["run_queue"]["queue_depth"] == 3


def test_readyz_answers_503_naming_the_failed_dependency_without_secrets(serve: ServeFn) -> None:
    def broken() -> Check:
        raise RuntimeError(f"FATAL: password authentication failed for {SECRET_URL}")

    answer = httpx.get(f"{serve({**HEALTHY, 'database': broken}).url}/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "unavailable"
    assert body["database"] == {"ok": False, "error": "RuntimeError: database probe failed; see the health service log"}
    assert body["run_queue"]["ok"] is True
    assert "hunter2" not in answer.text and "Traceback" not in answer.text


def test_readyz_answers_503_within_the_timeout_when_a_probe_hangs(serve: ServeFn) -> None:
    never = threading.Event()

    def hung() -> Check:
        never.wait()
        return Check(True)

    server = serve({**HEALTHY, "database": hung}, timeout=0.3)
    try:
        answer = httpx.get(f"{server.url}/readyz", timeout=5)
    finally:
        never.set()
    assert answer.status_code == 503
    assert answer.json()["database"] == {"ok": False, "error": "timeout after 0.3s"}
    assert answer.elapsed.total_seconds() < 1.5


def test_200_concurrent_readyz_cost_one_probe_round(serve: ServeFn) -> None:
    server = serve(ttl=60, timeout=5)
    with httpx.Client(limits=httpx.Limits(max_connections=50)) as client, ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(lambda _: client.get(f"{server.url}/readyz").status_code, range(200)))
    assert codes == [200] * 200
    assert server.readiness.rounds == 1


def test_metrics_is_the_prometheus_exposition(serve: ServeFn, sqlite_engine: Engine) -> None:
    answer = httpx.get(f"{serve(metrics=lambda: render_metrics(sqlite_engine)).url}/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == PROMETHEUS_CONTENT_TYPE
    assert "# TYPE invoices_submitted_total counter" in answer.text
    assert 'invoices_rejected_total{reason="org_not_verified"} 0.0' in answer.text
    assert "# TYPE etims_latency histogram" in answer.text


def test_metrics_fails_visibly_without_secrets(serve: ServeFn) -> None:
    def broken() -> bytes:
        raise ConnectionError(f"could not connect to {SECRET_URL}")

    answer = httpx.get(f"{serve(metrics=broken).url}/metrics")
    assert answer.status_code == 503
    assert answer.text == "# ConnectionError: metrics probe failed; see the health service log\n"


def test_unknown_paths_are_404(serve: ServeFn) -> None:
    answer = httpx.get(f"{serve().url}/status")
    assert answer.status_code == 404
    assert "/readyz" in answer.json()["error"]


def test_past_its_ttl_the_answer_is_served_while_one_round_refreshes_it(serve: ServeFn) -> None:
    second_round_may_finish = threading.Event()
    rounds: list[int] = []

    def slow_after_the_first() -> Check:
        rounds.append(len(rounds))
        if len(rounds) > 1:
            second_round_may_finish.wait()
        return Check(True)

    server = serve({**HEALTHY, "database": slow_after_the_first}, ttl=0.0, timeout=5)
    try:
        first = httpx.get(f"{server.url}/readyz", timeout=5)  # the first round, awaited
        # Round two blocks until released, so this answer can only be the first report, served stale.
        stale = httpx.get(f"{server.url}/readyz", timeout=5)
        assert stale.status_code == 200
        assert stale.json()["checked_at"] == first.json()["checked_at"]
    finally:
        second_round_may_finish.set()
