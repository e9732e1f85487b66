"""The sensor's request, run: one run covering seven partitions turns held and retryable rejections into accepted."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from dagster import SensorResult
from sqlalchemy import Engine, select

from etims_pipeline.nairobi_time import NAIROBI, partition_key
from etims_pipeline.sandbox.server import SandboxServer
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.models import Invoice
from tests.dagster_support import MaterializeFn
from tests.factories import make_invoice, make_org
from tests.sensors.conftest import FIRST_DAY, TODAY, Tick, set_status
from tests.submission.conftest import SandboxControl

RANGE = {
    "dagster/asset_partition_range_start": partition_key(FIRST_DAY),
    "dagster/asset_partition_range_end": partition_key(TODAY),
}


def test_one_replay_run_covers_seven_days_and_its_metadata_shows_the_transitions(
    sqlite_engine: Engine, sqlite_url: str, sandbox: SandboxServer, materialize_day: MaterializeFn, tick: Tick
) -> None:
    make_org(sqlite_engine, 1)
    for offset in range(7):  # one invoice per day, just after midnight so "today" is never in the future
        make_invoice(sqlite_engine, 1, datetime.combine(FIRST_DAY + timedelta(days=offset), time(0, 0, 1), NAIROBI))
    SandboxControl(sandbox.base_url).faults(
        {"endpoint": "saveTrnsSalesOsdc", "fault": "result_code", "result_code": "901"}
    )
    assert materialize_day(sandbox.base_url, sqlite_url, partition_key(FIRST_DAY)).success  # rejected, retryable
    set_status(sqlite_engine, "PENDING", 1)
    assert materialize_day(sandbox.base_url, sqlite_url, tags=RANGE).success  # the other six days: held
    first = tick(None)
    assert isinstance(first, SensorResult)  # nothing to replay yet, but the cursor moves past the changes
    cursor = first.cursor
    set_status(sqlite_engine, "VERIFIED", 1)

    sensed = tick(cursor)
    assert isinstance(sensed, SensorResult) and len(sensed.run_requests or []) == 1
    request = (sensed.run_requests or [])[0]
    result = materialize_day(sandbox.base_url, sqlite_url, tags=dict(request.tags), org_ids=[1], replay=True)

    assert result.success
    assert {key: result.dagster_run.tags[key] for key in RANGE} == RANGE
    materializations = result.asset_materializations_for_node("submitted_invoices")
    partitions = sorted((m.partition for m in materializations), key=str)  # key=str: partition is `str | None`
    assert partitions == [partition_key(FIRST_DAY + timedelta(n)) for n in range(7)]
    meta = {key: value.value for key, value in materializations[-1].metadata.items()}
    assert meta["days"] == f"{partition_key(FIRST_DAY)}..{partition_key(TODAY)}"
    assert meta["replay"] is True
    assert meta["scope_before_by_status"] == {"held": 6, "rejected": 1}
    assert meta["scope_after_by_status"] == {"accepted": 7}
    assert meta["transitions"] == {"held→accepted": 6, "rejected→accepted": 1}
    assert len(meta["by_day"]) == 7  # type: ignore[arg-type]
    with session_scope(sqlite_engine) as session:
        assert set(session.scalars(select(Invoice.status))) == {"accepted"}
