"""`etims-pipeline serve`: the health service (`/healthz`, `/readyz`, `/metrics`) until SIGTERM or Ctrl-C.

It opens the Dagster instance of `$DAGSTER_HOME` once and an engine on the operational database, and
reuses both for every request. Run it beside dagster-webserver and dagster-daemon, with their environment.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import Any

from dagster import DagsterInstance

from etims_pipeline.health.database import health_engine
from etims_pipeline.health.heap import freeze_warm_heap
from etims_pipeline.health.probes import DEFAULT_DAEMON_MAX_AGE, default_probes
from etims_pipeline.health.readiness import DEFAULT_CACHE_TTL, DEFAULT_PROBE_TIMEOUT, Readiness
from etims_pipeline.health.server import HealthServer
from etims_pipeline.observability.logging import JsonFormatter
from etims_pipeline.observability.metrics import render_metrics
from etims_pipeline.settings import database_url
from etims_pipeline.store.db import redacted_url

READY_LINE = "health service listening on"


def _log_to_stderr() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    health_logger = logging.getLogger("etims_pipeline.health")
    health_logger.addHandler(handler)
    health_logger.setLevel(logging.INFO)


async def _run(server: HealthServer, host: str, port: int, announce: str) -> None:
    """Serve until SIGTERM or SIGINT."""
    listener = await server.start(host, port)
    bound_host, bound_port = listener.sockets[0].getsockname()[:2]
    print(f"{READY_LINE} http://{bound_host}:{bound_port} ({announce})", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with listener:
        await stop.wait()


def _serve(args: argparse.Namespace) -> int:
    _log_to_stderr()
    url = args.database_url or database_url()
    try:
        instance = DagsterInstance.get()
    except Exception as exc:  # DAGSTER_HOME unset or its dagster.yaml invalid: say so, no trace
        print(f"DAGSTER_INSTANCE_UNAVAILABLE: {exc}; set DAGSTER_HOME to the instance directory", file=sys.stderr)
        return 2
    engine = health_engine(url, connect_timeout=args.probe_timeout)
    readiness = Readiness(
        default_probes(engine, instance, args.probe_timeout, args.daemon_max_age),
        timeout=args.probe_timeout,
        ttl=args.cache_ttl,
    )
    server = HealthServer(readiness, lambda: render_metrics(engine))
    try:
        readiness.check()  # warm-up: the first round runs before listening, so no request waits for it
        freeze_warm_heap()
        asyncio.run(_run(server, args.host, args.port, f"database {redacted_url(url)}"))
    finally:
        server.close()
        readiness.close()
        engine.dispose()
        instance.dispose()
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve", help="serve /healthz, /readyz and /metrics for orchestrators and Prometheus"
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    parser.add_argument("--database-url", help="operational database; defaults to $ETIMS_DATABASE_URL")
    parser.add_argument(
        "--probe-timeout",
        type=float,
        default=DEFAULT_PROBE_TIMEOUT,
        help=f"seconds each readiness probe may take (default {DEFAULT_PROBE_TIMEOUT:g})",
    )
    parser.add_argument(
        "--cache-ttl",
        type=float,
        default=DEFAULT_CACHE_TTL,
        help=f"seconds a readiness answer is reused (default {DEFAULT_CACHE_TTL:g})",
    )
    parser.add_argument(
        "--daemon-max-age",
        type=float,
        default=DEFAULT_DAEMON_MAX_AGE,
        help=f"oldest acceptable dagster-daemon heartbeat, seconds (default {DEFAULT_DAEMON_MAX_AGE:g})",
    )
    parser.set_defaults(handler=_serve)
