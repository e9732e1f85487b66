"""The replay sensor on a real instance: exact run requests and cursors across the cursor's edge cases."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, time, timedelta

import pytest
from dagster import RunRequest, SensorResult, SkipReason
from sqlalchemy import Engine, insert

from etims_pipeline.nairobi_time import NAIROBI, partition_key
from etims_pipeline.sensors.replay import MAX_RUN_REQUESTS, interval_seconds
from etims_pipeline.settings import ConfigError
from etims_pipeline.store.models import Invoice, VendorOrg
from etims_pipeline.store.replay_models import OrgStatusChange
from tests.factories import make_org
from tests.sensors.conftest import FIRST_DAY, TODAY, Tick, org_with_open_invoice, set_status, statements_on


def replay_of(org_id: int, change_id: int) -> tuple[str, dict[str, object], dict[str, str]]:
    """The run request the sensor must make for this fix, spelled out."""
    return (
        f"replay:{org_id}:{change_id}",
        {"ops": {"submitted_invoices": {"config": {"org_ids": [org_id], "replay": True}}}},
        {
            "dagster/asset_partition_range_start": partition_key(FIRST_DAY),
            "dagster/asset_partition_range_end": partition_key(TODAY),
            "etims/replay_org": str(org_id),
            "etims/replay_reason": "org_verified",
            "etims/replay_change_id": str(change_id),
        },
    )


def requests(result: SensorResult | SkipReason) -> list[tuple[str | None, dict[str, object], dict[str, str]]]:
    assert isinstance(result, SensorResult)
    runs: Sequence[RunRequest] = result.run_requests or []
    return [(run.run_key, dict(run.run_config), dict(run.tags)) for run in runs]


def cursor_of(result: SensorResult | SkipReason) -> dict[str, object]:
    assert isinstance(result, SensorResult) and result.cursor is not None
    document: dict[str, object] = json.loads(result.cursor)
    return document


def test_first_tick_replays_a_fixed_org_once_with_the_exact_request(sqlite_engine: Engine, tick: Tick) -> None:
    org_with_open_invoice(sqlite_engine, 1)  # change 1
    make_org(sqlite_engine, 2)  # change 2: inserted already eligible, nothing was fixed
    set_status(sqlite_engine, "VERIFIED", 1)  # change 3

    first = tick(None)

    assert requests(first) == [replay_of(1, 3)]
    assert cursor_of(first) == {"last_id": 3, "gaps": []}
    again = tick(first.cursor)  # type: ignore[union-attr]
    assert requests(again) == []
    assert cursor_of(again) == {"last_id": 3, "gaps": []}
    assert isinstance(again, SensorResult) and again.skip_reason is not None


def test_an_org_inserted_eligible_yields_nothing(sqlite_engine: Engine, tick: Tick) -> None:
    org_with_open_invoice(sqlite_engine, 1, tax_status="VERIFIED")

    result = tick(None)

    assert requests(result) == []
    assert cursor_of(result) == {"last_id": 1, "gaps": []}


def test_two_orgs_fixed_in_the_same_second_are_two_requests(sqlite_engine: Engine, tick: Tick) -> None:
    org_with_open_invoice(sqlite_engine, 1)
    org_with_open_invoice(sqlite_engine, 2)
    cursor = tick(None).cursor  # type: ignore[union-attr]
    set_status(sqlite_engine, "VERIFIED", 1, 2)  # one statement: changes 3 and 4, same changed_at

    result = tick(cursor)

    assert requests(result) == [replay_of(1, 3), replay_of(2, 4)]
    assert cursor_of(result) == {"last_id": 4, "gaps": []}


def test_an_org_fixed_twice_replays_twice_with_distinct_keys(sqlite_engine: Engine, tick: Tick) -> None:
    org_with_open_invoice(sqlite_engine, 1)
    set_status(sqlite_engine, "VERIFIED", 1)
    first = tick(None)
    set_status(sqlite_engine, "SUSPENDED", 1)
    set_status(sqlite_engine, "VERIFIED", 1)

    second = tick(first.cursor)  # type: ignore[union-attr]

    assert requests(first) == [replay_of(1, 2)]
    assert requests(second) == [replay_of(1, 4)]
    assert cursor_of(second) == {"last_id": 4, "gaps": []}


def test_a_fix_made_while_the_flag_is_off_is_replayed_once_it_is_on(
    sqlite_engine: Engine, tick: Tick, monkeypatch: pytest.MonkeyPatch
) -> None:
    org_with_open_invoice(sqlite_engine, 1)
    cursor = tick(None).cursor  # type: ignore[union-attr]
    monkeypatch.setenv("ETIMS_ENABLED", "false")
    set_status(sqlite_engine, "VERIFIED", 1)

    off = tick(cursor)
    monkeypatch.setenv("ETIMS_ENABLED", "true")
    on = tick(cursor)  # the daemon keeps the cursor of the last tick that returned one

    assert off == SkipReason("ETIMS_ENABLED is off")
    assert requests(on) == [replay_of(1, 2)]


def test_a_fixed_org_with_nothing_to_resubmit_is_passed_over_and_the_cursor_advances(
    sqlite_engine: Engine, tick: Tick
) -> None:
    make_org(sqlite_engine, 1, tax_status="PENDING")  # no invoices at all
    set_status(sqlite_engine, "VERIFIED", 1)

    result = tick(None)

    assert requests(result) == []
    assert cursor_of(result) == {"last_id": 2, "gaps": []}


def _change(engine: Engine, change_id: int, org_id: int, tax_status: str) -> None:
    """A change row with an explicit id: how a transaction that took its id earlier commits later."""
    with engine.begin() as connection:
        connection.execute(
            insert(OrgStatusChange).values(
                id=change_id, org_id=org_id, kra_pin=f"P{org_id:09d}K", tax_status=tax_status
            )
        )


def test_an_out_of_order_commit_is_picked_up_through_the_gaps(sqlite_engine: Engine, tick: Tick) -> None:
    org_with_open_invoice(sqlite_engine, 1)
    org_with_open_invoice(sqlite_engine, 2)
    cursor = tick(None).cursor  # type: ignore[union-attr]
    _change(sqlite_engine, 4, 2, "VERIFIED")  # id 4 commits first; id 3 is still in flight

    ahead = tick(cursor)
    _change(sqlite_engine, 3, 1, "VERIFIED")
    late = tick(ahead.cursor)  # type: ignore[union-attr]
    after = tick(late.cursor)  # type: ignore[union-attr]

    assert requests(ahead) == [replay_of(2, 4)]
    gaps = cursor_of(ahead)["gaps"]
    assert [gap[0] for gap in gaps] == [3]  # type: ignore[attr-defined]
    assert requests(late) == [replay_of(1, 3)]
    assert cursor_of(late) == {"last_id": 4, "gaps": []}
    assert requests(after) == []


def test_a_gap_older_than_ten_minutes_by_the_database_clock_is_dropped(sqlite_engine: Engine, tick: Tick) -> None:
    org_with_open_invoice(sqlite_engine, 1)
    recent = (datetime.now(NAIROBI) - timedelta(minutes=1)).isoformat()
    cursor = json.dumps({"last_id": 5, "gaps": [[2, "2000-01-01T00:00:00+00:00"], [3, recent]]})

    result = tick(cursor)

    assert cursor_of(result) == {"last_id": 5, "gaps": [[3, recent]]}


def _many_unverified_orgs(engine: Engine, count: int) -> None:
    day = datetime.combine(FIRST_DAY, time(12), tzinfo=NAIROBI)
    orgs = [
        {"id": n, "name": f"Vendor {n}", "kra_pin": f"P{n:09d}K", "tax_status": "PENDING", "device_serial": f"D{n}"}
        for n in range(1, count + 1)
    ]
    invoices = [
        {
            "org_id": n,
            "trader_invoice_no": f"BULK-{n}",
            "receipt_type": "S",
            "payment_type": "01",
            "issued_at": day,
            "issue_date": FIRST_DAY,
            "status": "held",
        }
        for n in range(1, count + 1)
    ]
    with engine.begin() as connection:
        connection.execute(insert(VendorOrg), orgs)
        connection.execute(insert(Invoice), invoices)


def test_a_tick_costs_the_same_statements_at_2000_orgs_and_batches_200_runs(
    sqlite_engine: Engine, sqlite_url: str, tick: Tick
) -> None:
    database = sqlite_url.removeprefix("sqlite:///")
    org_with_open_invoice(sqlite_engine, 9001)  # change 1
    set_status(sqlite_engine, "VERIFIED", 9001)  # change 2
    with statements_on(database) as small:
        assert requests(tick(None)) == [replay_of(9001, 2)]
    _many_unverified_orgs(sqlite_engine, 2000)  # changes 3..2002
    set_status(sqlite_engine, "VERIFIED", *range(1, 2001))  # changes 2003..4002

    with statements_on(database) as large:
        first = tick(json.dumps({"last_id": 2, "gaps": []}))
    second = tick(first.cursor)  # type: ignore[union-attr]

    assert len(large) == len(small) <= 4
    assert requests(first) == [replay_of(n, 2002 + n) for n in range(1, MAX_RUN_REQUESTS + 1)]
    assert cursor_of(first) == {"last_id": 2002 + MAX_RUN_REQUESTS, "gaps": []}
    assert requests(second)[0] == replay_of(MAX_RUN_REQUESTS + 1, 2002 + MAX_RUN_REQUESTS + 1)
    assert len(requests(second)) == MAX_RUN_REQUESTS


def test_the_interval_comes_from_the_environment() -> None:
    assert interval_seconds({}) == 30
    assert interval_seconds({"ETIMS_REPLAY_SENSOR_INTERVAL_SECONDS": "2"}) == 2
    with pytest.raises(ConfigError, match="ETIMS_REPLAY_SENSOR_INTERVAL_SECONDS"):
        interval_seconds({"ETIMS_REPLAY_SENSOR_INTERVAL_SECONDS": "0"})
