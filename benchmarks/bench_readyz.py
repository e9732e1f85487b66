"""Benchmark: `/readyz` latency under 200 concurrent requests, idle and while a backfill runs.

Starts the production-shaped stack of the end-to-end tests (PostgreSQL storage, sandbox, dagster-webserver,
dagster-daemon) plus `etims-pipeline serve` with its default settings, all as real processes. Then, in one
session: a baseline with the stack idle, and the same load while a backfill of `submitted_invoices` runs.
Three load shapes, loopback only, all from C load generators (a Python client on the same 2 cores measured
mostly itself):

- bursts: `ab -n 200 -c 200` (Debian package `apache2-utils`), `--rounds` times: 200 new connections at
  once, one `GET /readyz` each, like 200 orchestrator probes arriving together; every request's time from
  connect to last byte is pooled over the rounds;
- sustained keep-alive: `wrk -t1 -c200` (package `wrk`) for `--wrk-seconds`: 200 connections with no think
  time, a closed loop at the service's full throughput;
- sustained connection-per-request: the same with `Connection: close`, as probes that reconnect each time.

Run from the repository root:

    .venv/bin/python -m benchmarks.bench_readyz [--rounds 10] [--concurrency 200] [--wrk-seconds 5]
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
from dagster import DagsterRunStatus

from etims_pipeline.cli.serve import READY_LINE
from etims_pipeline.devstack.supervisor import ChildSpec
from etims_pipeline.nairobi_time import nairobi_days
from tests.conftest import POSTGRES_ADMIN_URL
from tests.e2e.stack import DagsterStack, dagster_stack, free_port, wait_until

DEMO_END = date(2026, 11, 23)
BACKFILL_START = date(2026, 5, 1)  # seven months of days: several runs of up to 31 days each
TOOL_TIMEOUT = 120


@dataclass(frozen=True)
class Result:
    """One load shape's answer: latency percentiles in ms, non-2xx answers, throughput when sustained."""

    shape: str
    p50: float
    p90: float
    p99: float
    non_2xx: int
    requests_per_second: float | None = None

    def line(self, stack: str) -> str:
        rate = f"  req/s={self.requests_per_second:,.0f}" if self.requests_per_second else ""
        return (
            f"{stack:<16} {self.shape:<28} p50={self.p50:6.1f} ms  p90={self.p90:6.1f} ms  "
            f"p99={self.p99:6.1f} ms  non-2xx={self.non_2xx}{rate}"
        )


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} is not installed: apt-get install {package}")
    return path


def _ab_bursts(url: str, rounds: int, concurrency: int, workdir: Path) -> Result:
    """`rounds` bursts of `concurrency` new connections at once; percentiles over every request of every round."""
    ab = _tool("ab", "apache2-utils")
    latencies: list[float] = []
    non_2xx = 0
    for round_number in range(rounds):
        timings = workdir / f"ab-{round_number}.tsv"
        argv = [ab, "-q", "-n", str(concurrency), "-c", str(concurrency), "-g", str(timings), url]
        report = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=TOOL_TIMEOUT).stdout
        errors = re.search(r"Non-2xx responses:\s+(\d+)", report)
        non_2xx += int(errors.group(1)) if errors else 0
        with timings.open() as rows:  # ab's gnuplot file: ttime = connect to last byte, whole ms
            latencies += [float(row["ttime"]) for row in csv.DictReader(rows, delimiter="\t")]
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Result(f"bursts ab -c{concurrency} x{rounds}", cuts[49], cuts[89], cuts[98], non_2xx)


def _wrk(url: str, concurrency: int, seconds: int, reconnect: bool) -> Result:
    """`wrk --latency` percentiles and throughput for `seconds` of closed-loop load."""
    argv = [_tool("wrk", "wrk"), "-t1", f"-c{concurrency}", f"-d{seconds}s", "--latency", url]
    if reconnect:
        argv += ["-H", "Connection: close"]
    report = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + TOOL_TIMEOUT).stdout
    percentiles = {q: _milliseconds(value) for q, value in re.findall(r"^\s+(50|90|99)%\s+(\S+)$", report, re.M)}
    rate = re.search(r"Requests/sec:\s+(\S+)", report)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    shape = f"wrk -c{concurrency} {seconds}s " + ("reconnecting" if reconnect else "keep-alive")
    return Result(
        shape,
        percentiles["50"],
        percentiles["90"],
        percentiles["99"],
        int(errors.group(1)) if errors else 0,
        float(rate.group(1)) if rate else None,
    )


def _milliseconds(wrk_duration: str) -> float:
    """wrk prints `812.00us`, `12.25ms` or `1.02s`."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", wrk_duration)
    if match is None:
        raise ValueError(f"unexpected wrk duration {wrk_duration!r}")
    return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]


def _measure(url: str, args: argparse.Namespace, workdir: Path) -> list[Result]:
    return [
        _ab_bursts(url, args.rounds, args.concurrency, workdir),
        _wrk(url, args.concurrency, args.wrk_seconds, reconnect=False),
        _wrk(url, args.concurrency, args.wrk_seconds, reconnect=True),
    ]


def _active(stack: DagsterStack) -> str:
    started = len(stack.runs([DagsterRunStatus.STARTED]))
    queued = len(stack.runs([DagsterRunStatus.QUEUED]))
    return f"{started} started/{queued} queued"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--wrk-seconds", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, dagster_stack(Path(tmp), POSTGRES_ADMIN_URL) as stack:
        workdir = Path(tmp)
        stack.load_demo(workdir, DEMO_END, days=7)
        port = free_port()
        argv_serve = [str(Path(sys.executable).parent / "etims-pipeline"), "serve", "--port", str(port)]
        stack.supervisor.start(ChildSpec("health", argv_serve, env=stack.env, ready_line=READY_LINE))
        url = f"http://127.0.0.1:{port}/readyz"
        wait_until(lambda: httpx.get(url).status_code == 200, 120, "/readyz 200")

        idle = _measure(url, args, workdir)
        days = [day.isoformat() for day in nairobi_days(BACKFILL_START, DEMO_END)]
        stack.launch_partition_backfill(["submitted_invoices"], days)
        wait_until(lambda: stack.runs([DagsterRunStatus.STARTED]), 120, "a backfill run to start")
        runs_before = _active(stack)
        busy = _measure(url, args, workdir)
        runs_after = _active(stack)

        print(f"GET /readyz, health service defaults; backfill runs: {runs_before} -> {runs_after}")
        for label, results in (("idle (baseline)", idle), ("during backfill", busy)):
            for result in results:
                print(result.line(label))
        for before, after in zip(idle, busy, strict=True):
            print(f"p99 ratio backfill/idle, {before.shape}: {after.p99 / before.p99:.2f}")
        stack.wait_for_runs_to_finish(1, timeout=600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
