"""The replay sensor under the real dagster-daemon: fixing an org with a plain SQL UPDATE is all it takes."""

from __future__ import annotations

import json
from datetime import datetime, time
from pathlib import Path

import httpx
import pytest
from dagster._core.scheduler.instigation import SensorInstigatorData
from sqlalchemy import Engine, select, text, update

from etims_pipeline.nairobi_time import NAIROBI, last_nairobi_days, now_utc, partition_key
from etims_pipeline.store.db import make_engine, session_scope
from etims_pipeline.store.migrate import upgrade_to_head
from etims_pipeline.store.models import Invoice
from tests.conftest import POSTGRES_ADMIN_URL
from tests.e2e.stack import DagsterStack, dagster_stack, wait_until
from tests.factories import make_invoice, make_org

ORG = 7
PIN = f"P{ORG:09d}K"


def _statuses(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return list(session.scalars(select(Invoice.status).where(Invoice.org_id == ORG)))


def _sensor_cursor(stack: DagsterStack) -> dict[str, object]:
    with stack.instance() as instance:
        states = [s for s in instance.all_instigator_state() if s.name == "replay_fixed_orgs"]
    data = states[0].instigator_data if states else None
    assert data is None or isinstance(data, SensorInstigatorData)  # a sensor's state holds sensor data
    cursor = data.cursor if data else None
    document: dict[str, object] = json.loads(cursor) if cursor else {}
    return document


@pytest.mark.e2e
@pytest.mark.postgres
def test_fixing_an_org_in_sql_replays_its_held_invoices(tmp_path: Path) -> None:
    extra = {"ETIMS_REPLAY_SENSOR_INTERVAL_SECONDS": "2"}
    with dagster_stack(tmp_path, POSTGRES_ADMIN_URL, extra_env=extra) as stack:
        engine = make_engine(stack.operational_url)
        upgrade_to_head(engine)
        first_day, today = last_nairobi_days(3, now_utc())
        make_org(engine, ORG, tax_status="PENDING")
        for day in (first_day, first_day, today):
            make_invoice(engine, ORG, datetime.combine(day, time(0, 0, 1), NAIROBI))
        with session_scope(engine) as session:  # as the guard left them
            session.execute(update(Invoice).values(status="held", status_code="ORG_NOT_VERIFIED"))
        with engine.begin() as connection:
            connection.execute(text("UPDATE vendor_orgs SET tax_status = 'VERIFIED' WHERE id = :id"), {"id": ORG})

        wait_until(lambda: _statuses(engine) == ["accepted"] * 3, 240, "the replay to accept the org's invoices")
        (run,) = stack.wait_for_runs_to_finish(1)
        # Two changes (insert, fix): once the sensor's cursor has passed both, no further run can follow.
        wait_until(lambda: _sensor_cursor(stack).get("last_id") == 2, 60, "the sensor's cursor to pass the fix")

        assert len(stack.runs()) == 1
        window_start = partition_key(last_nairobi_days(7, now_utc())[0])
        assert run.tags["dagster/sensor_name"] == "replay_fixed_orgs"
        assert run.tags["dagster/asset_partition_range_start"] == window_start
        assert run.tags["dagster/asset_partition_range_end"] == partition_key(today)
        assert run.tags["etims/replay_org"] == str(ORG)
        assert run.tags["etims/replay_reason"] == "org_verified"
        assert run.tags["etims/replay_change_id"] == "2"
        assert run.tags["dagster/run_key"] == "replay:7:2"
        ledger = httpx.get(f"{stack.sandbox_root}/_sandbox/ledger", timeout=10).json()
        assert sorted(sale["invcNo"] for sale in ledger["sales"] if sale["tin"] == PIN) == [1, 2, 3]
        assert [call["calls"] for call in ledger["save_calls"] if call["tin"] == PIN] == [1, 1, 1]
        engine.dispose()
