"""Fixtures for driving the submission engine against the sandbox over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from etims_pipeline.etims.client import EtimsClient, make_http_client
from etims_pipeline.sandbox.server import SandboxServer
from etims_pipeline.settings import FeatureFlags
from etims_pipeline.submission.engine import EngineSettings, SubmissionEngine, SubmissionRequest
from etims_pipeline.submission.results import SubmissionReport
from etims_pipeline.submission.retry import RetryPolicy

DAY = date(2026, 11, 23)
ON = FeatureFlags(debug=False, etims_enabled=True, kpis_enabled=True)


class SandboxControl:
    def __init__(self, base_url: str) -> None:
        self.root = base_url.split("/etims-api/", maxsplit=1)[0]

    def faults(self, *rules: dict[str, Any], latency_ms: int = 0) -> None:
        httpx.post(
            f"{self.root}/_sandbox/faults", json={"latency_ms": latency_ms, "rules": list(rules)}
        ).raise_for_status()

    def ledger(self) -> dict[str, Any]:
        document: dict[str, Any] = httpx.get(f"{self.root}/_sandbox/ledger").json()
        return document

    def save_calls(self) -> dict[tuple[str, int], int]:
        return {(c["tin"], c["invcNo"]): c["calls"] for c in self.ledger()["save_calls"]}


@pytest.fixture
def control(sandbox: SandboxServer) -> SandboxControl:
    return SandboxControl(sandbox.base_url)


@pytest.fixture
def http_client(sandbox: SandboxServer) -> Iterator[EtimsClient]:
    with make_http_client(
        sandbox.base_url, timeout_seconds=1.0, connect_timeout_seconds=1.0, max_connections=8
    ) as http:
        yield EtimsClient(http)


SubmitFn = Callable[..., SubmissionReport]


def no_sleep(_seconds: float) -> None:
    """Backoff waits are not needed to prove the state machine; the policy's delays are unit-tested."""


@pytest.fixture
def submit(sqlite_engine: Engine, http_client: EtimsClient) -> SubmitFn:
    def run(
        engine: Engine | None = None,
        *,
        first_day: date = DAY,
        last_day: date | None = None,
        org_ids: tuple[int, ...] | None = None,
        flags: FeatureFlags = ON,
        client: EtimsClient | None = None,
        max_calls: int = 5,
        run_id: str = "run-1",
    ) -> SubmissionReport:
        settings = EngineSettings(max_in_flight=4, retry=RetryPolicy(max_calls=max_calls, sleep=no_sleep))
        eng = SubmissionEngine(engine or sqlite_engine, client or http_client, flags, settings)
        return eng.submit(SubmissionRequest(first_day, last_day or first_day, run_id, org_ids))

    return run
