"""Benchmark: `/readyz` latency under 200 concurrent requests, idle and while a backfill runs.

Starts the production-shaped stack of the end-to-end tests (PostgreSQL storage, sandbox, dagster-webserver,
dagster-daemon) plus `etims-pipeline serve` with its default settings, all as real processes. Then, in one
session: a baseline with the stack idle, and the same load while a backfill of `submitted_invoices` runs.
Two load shapes, loopback only, bounded in count and time:

- bursts: each round opens 200 connections at once from this (Python, asyncio) process and sends
  `GET /readyz` on each; latency is from just before connecting to the last byte of the answer. On 2 cores
  the Python client's own work dominates these figures (the same client against a trivial asyncio server
  that answers fixed bytes measures about the same), so they bound the service's latency from above;
- sustained: `wrk -t1 -c200` (C, Debian package `wrk`, skipped if absent) for `--wrk-seconds`, 200 keep-alive
  connections with no think time: a closed loop at the service's full throughput.

Run from the repository root:

    .venv/bin/python -m benchmarks.bench_readyz [--rounds 10] [--concurrency 200] [--wrk-seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
from dagster import DagsterRunStatus

from etims_pipeline.cli.serve import READY_LINE
from etims_pipeline.devstack.supervisor import ChildSpec
from etims_pipeline.loading.demo import generate_demo_data
from etims_pipeline.loading.invoices import load_invoices_file
from etims_pipeline.loading.orgs import load_orgs_file
from etims_pipeline.nairobi_time import nairobi_days
from etims_pipeline.store.db import make_engine
from etims_pipeline.store.migrate import upgrade_to_head
from tests.conftest import POSTGRES_ADMIN_URL
from tests.e2e.stack import DagsterStack, dagster_stack, free_port, wait_until

DEMO_END = date(2026, 11, 23)
BACKFILL_START = date(2026, 5, 1)  # seven months of days: several runs of up to 31 days each
REQUEST = b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
ROUND_TIMEOUT = 30.0
PAUSE_BETWEEN_ROUNDS = 0.25


@dataclass(frozen=True)
class Summary:
    label: str
    latencies_ms: list[float]
    statuses: dict[int, int]
    active_runs: str

    def percentile(self, q: int) -> float:
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[q - 1]

    def line(self) -> str:
        return (
            f"{self.label:<18} n={len(self.latencies_ms):>5}  p50={self.percentile(50):7.1f} ms  "
            f"p95={self.percentile(95):7.1f} ms  p99={self.percentile(99):7.1f} ms  "
            f"max={max(self.latencies_ms):7.1f} ms  statuses={self.statuses}  runs={self.active_runs}"
        )


async def _one(port: int) -> tuple[float, int]:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(REQUEST)
    answer = await reader.read()  # Connection: close, so the server ends the stream
    elapsed = (time.perf_counter() - started) * 1000
    writer.close()
    return elapsed, int(answer.split(b" ", 2)[1])


async def _rounds(port: int, rounds: int, concurrency: int) -> tuple[list[float], dict[int, int]]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    for _ in range(rounds):
        answers = await asyncio.wait_for(asyncio.gather(*(_one(port) for _ in range(concurrency))), ROUND_TIMEOUT)
        for elapsed, status in answers:
            latencies.append(elapsed)
            statuses[status] = statuses.get(status, 0) + 1
        await asyncio.sleep(PAUSE_BETWEEN_ROUNDS)
    return latencies, statuses


def _active(stack: DagsterStack) -> str:
    started = len(stack.runs([DagsterRunStatus.STARTED]))
    queued = len(stack.runs([DagsterRunStatus.QUEUED]))
    return f"{started} started/{queued} queued"


def _measure(stack: DagsterStack, port: int, label: str, rounds: int, concurrency: int) -> Summary:
    before = _active(stack)
    latencies, statuses = asyncio.run(_rounds(port, rounds, concurrency))
    return Summary(label, latencies, statuses, f"{before} -> {_active(stack)}")


def _wrk(port: int, concurrency: int, seconds: int, label: str) -> str:
    """`wrk --latency` percentiles and throughput, or a note that wrk is not installed."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return f"{label:<18} wrk not installed (apt-get install wrk): skipped"
    argv = [wrk, "-t1", f"-c{concurrency}", f"-d{seconds}s", "--latency", f"http://127.0.0.1:{port}/readyz"]
    report = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", report, re.MULTILINE))
    rate = re.search(r"Requests/sec:\s+(\S+)", report)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    non_2xx = errors.group(1) if errors else 0
    return (
        f"{label:<18} wrk -c{concurrency} {seconds}s  p50={percentiles.get('50')}  p90={percentiles.get('90')}  "
        f"p99={percentiles.get('99')}  req/s={rate.group(1) if rate else '?'}  non-2xx={non_2xx}"
    )


def _load_demo(stack: DagsterStack, workdir: Path) -> None:
    engine = make_engine(stack.operational_url)
    upgrade_to_head(engine)
    files = generate_demo_data(workdir / "demo", end_date=DEMO_END, orgs=12, days=7)
    load_orgs_file(engine, files.orgs_path)
    load_invoices_file(engine, files.invoices_path)
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--wrk-seconds", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, dagster_stack(Path(tmp), POSTGRES_ADMIN_URL) as stack:
        _load_demo(stack, Path(tmp))
        port = free_port()
        argv_serve = [str(Path(sys.executable).parent / "etims-pipeline"), "serve", "--port", str(port)]
        stack.supervisor.start(ChildSpec("health", argv_serve, env=stack.env, ready_line=READY_LINE))
        readyz = f"http://127.0.0.1:{port}/readyz"
        wait_until(lambda: httpx.get(readyz).status_code == 200, 120, "/readyz 200")

        idle = _measure(stack, port, "idle (baseline)", args.rounds, args.concurrency)
        idle_wrk = _wrk(port, args.concurrency, args.wrk_seconds, "idle (baseline)")
        days = [day.isoformat() for day in nairobi_days(BACKFILL_START, DEMO_END)]
        stack.launch_partition_backfill(["submitted_invoices"], days)
        wait_until(lambda: stack.runs([DagsterRunStatus.STARTED]), 120, "a backfill run to start")
        busy = _measure(stack, port, "during backfill", args.rounds, args.concurrency)
        busy_wrk = _wrk(port, args.concurrency, args.wrk_seconds, "during backfill")
        busy_wrk += f"  runs at end: {_active(stack)}"

        print(f"{args.concurrency} concurrent GET /readyz x {args.rounds} rounds, health service defaults")
        for summary in (idle, busy):
            print(summary.line())
        print(f"p99 ratio (backfill / idle): {busy.percentile(99) / idle.percentile(99):.2f}")
        print(idle_wrk)
        print(busy_wrk)
        stack.wait_for_runs_to_finish(1, timeout=600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
