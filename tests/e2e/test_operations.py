"""Operations end to end, with real processes on PostgreSQL: a backfill launched through GraphQL, watched
through the health service's `/readyz` (queue depth while runs wait) and `/metrics`, then PostgreSQL cut
off from the health service alone (through a proxy: the shared server keeps serving everyone else).
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from dagster import DagsterRunStatus
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from etims_pipeline.cli.serve import READY_LINE
from etims_pipeline.devstack.supervisor import ChildSpec
from etims_pipeline.store.db import make_engine, session_scope
from etims_pipeline.store.models import Invoice
from tests.conftest import POSTGRES_ADMIN_URL
from tests.e2e.stack import DagsterStack, dagster_stack, free_port, wait_until
from tests.e2e.tcp_proxy import TcpProxy

DEMO_END = date(2026, 11, 23)
# The demo's three days are one run; a day in each earlier month is a run of its own (multi_run(31) ranges),
# six runs in all against max_concurrent_runs 4, so some must wait in the queue.
PARTITIONS = [
    "2026-06-15",
    "2026-07-15",
    "2026-08-15",
    "2026-09-15",
    "2026-10-15",
    "2026-11-21",
    "2026-11-22",
    "2026-11-23",
]
EXPECTED_RUNS = 6
PASSWORD = "e2e-not-a-real-password"
PROBE_TIMEOUT = 1.0
CACHE_TTL = 0.2


def _through(proxy: TcpProxy, url: str) -> str:
    """`url` sent through the proxy, with a password (trust auth ignores it) that must never be shown."""
    parsed = make_url(url).set(port=proxy.port, password=PASSWORD)
    return parsed.render_as_string(hide_password=False)


def _start_health_service(stack: DagsterStack, proxy: TcpProxy) -> str:
    port = free_port()
    env = {
        **stack.env,
        "ETIMS_DATABASE_URL": _through(proxy, stack.operational_url),
        "DAGSTER_PG_PORT": str(proxy.port),
        "DAGSTER_PG_PASSWORD": PASSWORD,
    }
    argv = [str(Path(sys.executable).parent / "etims-pipeline"), "serve", "--port", str(port)]
    argv += ["--probe-timeout", str(PROBE_TIMEOUT), "--cache-ttl", str(CACHE_TTL)]
    stack.supervisor.start(ChildSpec("health", argv, env=env, ready_line=READY_LINE, ready_timeout=60))
    return f"http://127.0.0.1:{port}"


def _readyz(health: str) -> httpx.Response:
    return httpx.get(f"{health}/readyz", timeout=10)


def _samples(health: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = httpx.get(f"{health}/metrics", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def _ready_answer(health: str) -> httpx.Response | None:
    answer = _readyz(health)
    if answer.status_code != 200:
        print(f"/readyz {answer.status_code}: {answer.text}")  # shown if the wait finally fails
        return None
    return answer


def _queued(health: str) -> dict[str, Any] | None:
    """A healthy answer that shows runs waiting (run workers starting on 2 cores can slow a probe past its
    timeout for a moment; such an answer is not what this waits for)."""
    body: dict[str, Any] = _readyz(health).json()
    return body if body["status"] == "ok" and body["run_queue"]["queue_depth"] > 0 else None


@pytest.mark.e2e
@pytest.mark.postgres
def test_backfill_health_and_metrics_with_real_processes(tmp_path: Path) -> None:
    with dagster_stack(tmp_path, POSTGRES_ADMIN_URL) as stack, TcpProxy(("127.0.0.1", 5432)) as proxy:
        stack.load_demo(tmp_path, DEMO_END, days=3)
        health = _start_health_service(stack, proxy)
        assert httpx.get(f"{health}/healthz").json() == {"status": "ok"}
        wait_until(lambda: _readyz(health).status_code == 200, 120, "/readyz 200 (daemon heartbeats)")

        stack.launch_partition_backfill(["submitted_invoices"], PARTITIONS)
        waiting = wait_until(lambda: _queued(health), 120, "runs waiting in the run queue", interval=0.2)
        assert waiting["run_queue"]["ok"] is True

        runs = stack.wait_for_runs_to_finish(EXPECTED_RUNS, timeout=600)
        assert len(runs) == EXPECTED_RUNS
        assert {run.status for run in runs} == {DagsterRunStatus.SUCCESS}
        assert _readyz(health).json()["run_queue"]["queue_depth"] == 0

        engine = make_engine(stack.operational_url)
        with session_scope(engine) as session:
            accepted = session.scalar(select(func.count()).where(Invoice.status == "accepted"))
        engine.dispose()
        assert accepted
        samples = _samples(health)
        assert samples["invoices_submitted_total", (("status", "accepted"),)] == accepted
        assert samples["invoices_rejected_total", (("reason", "org_not_verified"),)] > 0
        latency_count = sum(value for (name, _), value in samples.items() if name == "etims_latency_count")
        assert latency_count >= accepted

        # Polled: on a loaded CI host a probe round can miss its deadline once; readiness must come back.
        ready = wait_until(lambda: _ready_answer(health), 60, "/readyz 200 after the backfill")
        assert {key for key, value in ready.json().items() if isinstance(value, dict) and value["ok"]} == {
            "database",
            "dagster_storage",
            "run_queue",
            "daemon",
        }

        proxy.stop()  # PostgreSQL is now unreachable for the health service only
        # The last answer may be served while one round refreshes it (at most TTL + probe timeout old), so
        # the 503 must show within TTL + 2 probe timeouts, and no request may hang meanwhile.
        cut = time.monotonic()
        answers = []

        def unavailable() -> httpx.Response | None:
            sent = time.monotonic()
            answer = _readyz(health)
            answers.append(time.monotonic() - sent)
            return answer if answer.status_code == 503 else None

        down: httpx.Response = wait_until(unavailable, 30, "/readyz 503 after PostgreSQL was cut", interval=0.05)
        assert time.monotonic() - cut < CACHE_TTL + 2 * PROBE_TIMEOUT + 1.0
        assert max(answers) < PROBE_TIMEOUT + 1.0
        body = down.json()
        assert body["status"] == "unavailable"
        assert body["database"]["ok"] is False and body["dagster_storage"]["ok"] is False
        assert PASSWORD not in down.text and "Traceback" not in down.text
        assert httpx.get(f"{health}/healthz").status_code == 200  # alive, just not ready

        assert stack.supervisor.stop()
        assert all(child.returncode is not None for child in stack.supervisor.children)
