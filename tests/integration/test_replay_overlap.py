"""A replay overlapping the daily run on PostgreSQL: every invoice is accepted once, sent once (eTIMS's own ledger)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, time, timedelta

import pytest
from dagster import DagsterInstance, ExecuteInProcessResult, materialize
from sqlalchemy import Engine, func, select, update

from etims_pipeline.assets.submissions import submitted_invoices
from etims_pipeline.nairobi_time import NAIROBI, now_utc, partition_key
from etims_pipeline.resources.operational_db import shared_engine
from etims_pipeline.sensors.replay_run import REASON_MANUAL, REPLAY_DAYS, ReplayRun
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.models import Invoice, SubmissionAttempt, VendorOrg
from tests.dagster_support import resources
from tests.factories import make_invoice, make_org
from tests.submission.conftest import SandboxControl

REPLAYED_ORG, OTHER_ORG = 1, 2
PER_DAY = 5


def _seed(engine: Engine, run: ReplayRun) -> None:
    """A fixed org with held invoices on each of the seven days, and a verified org with today's invoices."""
    make_org(engine, REPLAYED_ORG, tax_status="PENDING")
    make_org(engine, OTHER_ORG)
    for offset in range(REPLAY_DAYS):
        day = run.first_day + timedelta(days=offset)
        for n in range(PER_DAY):
            make_invoice(engine, REPLAYED_ORG, datetime.combine(day, time(0, 0, n + 1), NAIROBI))
    for n in range(PER_DAY):
        make_invoice(engine, OTHER_ORG, datetime.combine(run.last_day, time(0, 0, n + 1), NAIROBI))
    with session_scope(engine) as session:
        session.execute(update(Invoice).where(Invoice.org_id == REPLAYED_ORG).values(status="held"))
        session.execute(update(VendorOrg).where(VendorOrg.id == REPLAYED_ORG).values(tax_status="VERIFIED"))


@pytest.mark.postgres
def test_a_replay_overlapping_the_daily_run_accepts_each_invoice_once(postgres_url: str, sandbox_process: str) -> None:
    # Alembic (ours, and Dagster's for an instance's storage) is not thread-safe: everything that migrates
    # happens here, before the threads: the store (cached per URL by the resource) and both instances.
    engine = shared_engine(postgres_url)
    run = ReplayRun.last_days(REPLAYED_ORG, REPLAY_DAYS, now_utc(), REASON_MANUAL)
    _seed(engine, run)
    SandboxControl(sandbox_process).faults(latency_ms=15)  # widen the window in which the two runs overlap
    start = threading.Barrier(2)
    results: dict[str, ExecuteInProcessResult] = {}

    def go(name: str, instance: DagsterInstance, **kwargs: object) -> Callable[[], None]:
        def body() -> None:
            start.wait(timeout=30)
            results[name] = materialize(
                [submitted_invoices],
                instance=instance,
                resources=resources(sandbox_process, postgres_url),
                raise_on_error=False,
                **kwargs,  # type: ignore[arg-type]
            )

        return body

    with DagsterInstance.ephemeral() as replay_instance, DagsterInstance.ephemeral() as daily_instance:
        threads = [
            threading.Thread(target=go("replay", replay_instance, run_config=run.run_config(), tags=run.tags())),
            threading.Thread(target=go("daily", daily_instance, partition_key=partition_key(run.last_day))),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)

    assert results["replay"].success and results["daily"].success
    with session_scope(engine) as session:
        statuses = Counter(session.scalars(select(Invoice.status).where(Invoice.org_id == REPLAYED_ORG)))
        accepting = session.scalar(
            select(func.count()).where(
                SubmissionAttempt.org_id == REPLAYED_ORG, SubmissionAttempt.outcome.in_(["accepted", "found"])
            )
        )
    assert statuses == {"accepted": REPLAY_DAYS * PER_DAY}
    assert accepting == REPLAY_DAYS * PER_DAY
    ledger = SandboxControl(sandbox_process).ledger()
    pin = f"P{REPLAYED_ORG:09d}K"
    numbers = Counter(sale["invcNo"] for sale in ledger["sales"] if sale["tin"] == pin)
    assert len(numbers) == REPLAY_DAYS * PER_DAY and set(numbers.values()) == {1}
    assert {call["calls"] for call in ledger["save_calls"]} == {1}
    assert sum(1 for call in ledger["save_calls"] if call["tin"] == pin) == REPLAY_DAYS * PER_DAY
