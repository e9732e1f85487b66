"""Fixtures for evaluating the replay sensor on a real `instance_for_test()` against a migrated SQLite store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, time

import pytest
from dagster import DagsterInstance, SensorResult, SkipReason, build_sensor_context
from sqlalchemy import Engine, event, update

from etims_pipeline.nairobi_time import NAIROBI, last_nairobi_days, now_utc
from etims_pipeline.resources.operational_db import OperationalDatabaseResource
from etims_pipeline.sensors import replay
from etims_pipeline.store.models import VendorOrg
from tests.factories import make_invoice, make_org

NOW = now_utc()  # the evaluation time of every tick in these tests
TODAY = last_nairobi_days(1, NOW)[1]
FIRST_DAY = last_nairobi_days(7, NOW)[0]

Tick = Callable[[str | None], SensorResult | SkipReason]


@pytest.fixture
def tick(
    dagster_instance: DagsterInstance, sqlite_engine: Engine, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> Tick:
    """Evaluate the sensor once with a cursor, as the daemon would; ETIMS_ENABLED on, the clock fixed."""
    monkeypatch.setenv("ETIMS_ENABLED", "true")
    monkeypatch.setattr(replay, "now_utc", lambda: NOW)
    resources = {"operational_db": OperationalDatabaseResource(url=sqlite_url)}

    def evaluate(cursor: str | None) -> SensorResult | SkipReason:
        context = build_sensor_context(instance=dagster_instance, cursor=cursor, resources=resources)
        result = replay.replay_fixed_orgs(context)
        assert isinstance(result, SensorResult | SkipReason)  # what the sensor function returns
        return result

    return evaluate


def org_with_open_invoice(engine: Engine, org_id: int, tax_status: str = "PENDING") -> None:
    make_org(engine, org_id, tax_status=tax_status)
    make_invoice(engine, org_id, datetime.combine(FIRST_DAY, time(12), tzinfo=NAIROBI))


def set_status(engine: Engine, tax_status: str, *org_ids: int) -> None:
    """One UPDATE for all the orgs (so they change in the same second, in one transaction)."""
    with engine.begin() as connection:
        connection.execute(update(VendorOrg).where(VendorOrg.id.in_(org_ids)).values(tax_status=tax_status))


@contextmanager
def statements_on(database: str) -> Iterator[list[str]]:
    """Every SQL statement sent to the given SQLite file while the block runs."""
    seen: list[str] = []

    def record(conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if conn.engine.url.database == database:  # type: ignore[attr-defined]
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)
