"""Readiness: every probe at once, each under a hard timeout, one round at a time, cached briefly.

- **Hard timeout.** Probes run in a thread pool; the answer waits for each at most until the round's
  deadline, so a hung database or storage costs `timeout` seconds, never more.
- **No pile-up.** A probe still running from an earlier round (hung) is waited on again instead of being
  started twice, so each dependency has at most one probe in flight and the pool never runs dry.
- **Single flight and cache.** One lock around the round: of 200 concurrent `/readyz` requests one runs
  the probes, the others wait for it and share its answer, which then serves everyone for `ttl` seconds.
- **Stale while revalidating.** Once the answer is older than `ttl`, requests still get it at once (for at
  most `ttl + timeout` seconds in all) while one round refreshes it in the background: nobody waits for a
  probe round except the very first request. A failure therefore shows within `ttl + timeout` seconds.
  The answer says when it was taken (`checked_at`) and how old it is (`age_seconds`).
- **No secrets, no traces.** A probe that raises is reported as its exception type and a fixed message;
  the exception text (which may name hosts or users) goes to the service log only, passwords masked.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime

from etims_pipeline.health.probes import Check, Probe

DEFAULT_PROBE_TIMEOUT = 0.5
DEFAULT_CACHE_TTL = 1.0

logger = logging.getLogger(__name__)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]*@")


@dataclass(frozen=True)
class Report:
    """One round of probes: `checked_at` is wall-clock (epoch seconds), `taken` the monotonic time of the round."""

    checks: Mapping[str, Check]
    checked_at: float
    taken: float

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks.values())

    def as_json(self, now: float) -> dict[str, object]:
        """The `/readyz` body; `now` is the monotonic time of the answer, for the age."""
        body: dict[str, object] = {"status": "ok" if self.ok else "unavailable"}
        body.update({name: check.as_json() for name, check in self.checks.items()})
        body["checked_at"] = datetime.fromtimestamp(self.checked_at, UTC).isoformat(timespec="milliseconds")
        body["age_seconds"] = round(max(0.0, now - self.taken), 3)
        return body


def failed_check(name: str, exc: BaseException) -> Check:
    """A probe that raised: the type and a fixed message in the answer, the details in the log."""
    logger.warning("readiness probe %s failed: %s", name, _URL_PASSWORD.sub(r"\1***@", f"{type(exc).__name__}: {exc}"))
    return Check(False, error=f"{type(exc).__name__}: {name} probe failed; see the health service log")


class Readiness:
    """Runs `probes` (name → probe) as described in the module docstring; `close()` releases the threads."""

    def __init__(
        self,
        probes: Mapping[str, Probe],
        timeout: float = DEFAULT_PROBE_TIMEOUT,
        ttl: float = DEFAULT_CACHE_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._probes = dict(probes)
        self._timeout = timeout
        self._ttl = ttl
        self._clock = clock
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(self._probes)), thread_name_prefix="readyz-probe")
        self._in_flight: dict[str, Future[Check]] = {}
        self._lock = threading.Lock()
        self._last: Report | None = None
        self.rounds = 0

    def fresh(self) -> Report | None:
        """The latest report if it is younger than the TTL; never blocks (one attribute read)."""
        return self._younger_than(self._ttl)

    def usable(self) -> Report | None:
        """The latest report while a refresh may still be running: at most `ttl + timeout` old; never blocks."""
        return self._younger_than(self._ttl + self._timeout)

    def _younger_than(self, seconds: float) -> Report | None:
        last = self._last
        if last is not None and self._clock() - last.taken < seconds:
            return last
        return None

    def check(self) -> Report:
        """The latest report, probing again only when it is older than the TTL."""
        with self._lock:
            last = self.fresh()
            if last is None:
                last = self._last = self._round()
            return last

    def close(self) -> None:
        # Do not wait: a hung probe would hold the shutdown; its thread ends with the process.
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _round(self) -> Report:
        self.rounds += 1
        checked_at, started = time.time(), self._clock()
        futures = {name: self._submit(name, probe) for name, probe in self._probes.items()}
        deadline = started + self._timeout
        checks: dict[str, Check] = {}
        for name, future in futures.items():
            try:
                checks[name] = future.result(timeout=max(0.0, deadline - self._clock()))
            except FutureTimeout:
                checks[name] = Check(False, error=f"timeout after {self._timeout:g}s")
            except Exception as exc:  # any failure of a dependency is an answer, not a crash
                checks[name] = failed_check(name, exc)
        return Report(checks, checked_at, self._clock())

    def _submit(self, name: str, probe: Probe) -> Future[Check]:
        running = self._in_flight.get(name)
        if running is not None and not running.done():
            return running
        future = self._pool.submit(probe)
        self._in_flight[name] = future
        return future
