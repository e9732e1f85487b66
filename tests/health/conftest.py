"""A real health server on an ephemeral port, its event loop in a thread, for any readiness and metrics."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import pytest

from etims_pipeline.health.probes import Check, Probe
from etims_pipeline.health.readiness import DEFAULT_CACHE_TTL, DEFAULT_PROBE_TIMEOUT, Readiness
from etims_pipeline.health.server import HealthServer


def fixed(check: Check) -> Probe:
    """A probe that always answers `check`."""
    return lambda: check


HEALTHY: Mapping[str, Probe] = {
    "database": fixed(Check(True, {"latency_ms": 0.4})),
    "dagster_storage": fixed(Check(True)),
    "run_queue": fixed(Check(True, {"queue_depth": 3})),
    "daemon": fixed(Check(True, {"heartbeats": {"SENSOR": {"age_seconds": 2.0, "errors": 0}}})),
}


@dataclass
class Running:
    url: str
    readiness: Readiness


ServeFn = Callable[..., Running]


@pytest.fixture
def serve() -> Iterator[ServeFn]:
    """Start servers for the test; every one is stopped and closed afterwards."""
    stops: list[Callable[[], None]] = []

    def start(
        probes: Mapping[str, Probe] = HEALTHY,
        metrics: Callable[[], bytes] = lambda: b"",
        *,
        timeout: float = DEFAULT_PROBE_TIMEOUT,
        ttl: float = DEFAULT_CACHE_TTL,
    ) -> Running:
        server = HealthServer(Readiness(probes, timeout=timeout, ttl=ttl), metrics)
        loop = asyncio.new_event_loop()
        listener = loop.run_until_complete(server.start("127.0.0.1", 0))
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()

        async def shut_down() -> None:
            listener.close()
            others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        def stop() -> None:
            asyncio.run_coroutine_threadsafe(shut_down(), loop).result(timeout=5)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            loop.close()
            server.close()
            server.readiness.close()

        stops.append(stop)
        return Running(f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}", server.readiness)

    yield start
    for stop in stops:
        stop()
