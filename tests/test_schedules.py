"""The 00:30 Nairobi daily close: the previous Nairobi day whatever the host's zone, and the two flags."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from dagster import AssetKey, DagsterInstance, build_schedule_context

from etims_pipeline.resources.feature_flags import FeatureFlagsResource
from etims_pipeline.schedules import vendor_kpis_daily_schedule


@pytest.fixture(autouse=True)
def host_in_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def tick(instance: DagsterInstance, at: datetime, *, etims: str = "true", kpis: str = "true") -> object:
    context = build_schedule_context(
        instance,
        scheduled_execution_time=at,
        resources={"feature_flags": FeatureFlagsResource(etims_enabled=etims, kpis_enabled=kpis)},
    )
    return vendor_kpis_daily_schedule(context)


@pytest.mark.parametrize(
    ("utc_tick", "target"),
    [
        (datetime(2026, 11, 23, 21, 30, tzinfo=UTC), "2026-11-23"),  # 00:30 on the 24th in Nairobi
        (datetime(2026, 11, 23, 20, 59, tzinfo=UTC), "2026-11-22"),  # 23:59 on the 23rd in Nairobi
        (datetime(2026, 11, 23, 21, 0, tzinfo=UTC), "2026-11-23"),  # midnight Nairobi exactly
        (datetime(2026, 11, 24, 0, 30, tzinfo=UTC), "2026-11-23"),  # 00:30 UTC is 03:30 Nairobi, still the 24th
    ],
)
def test_the_tick_targets_the_previous_nairobi_day(
    dagster_instance: DagsterInstance, utc_tick: datetime, target: str
) -> None:
    request = tick(dagster_instance, utc_tick)
    assert request.partition_key == target  # type: ignore[attr-defined]
    assert request.run_key == target  # type: ignore[attr-defined]
    assert request.asset_selection is None  # type: ignore[attr-defined]  # the whole daily close job


def test_kpis_off_skips_the_tick_with_the_reason(dagster_instance: DagsterInstance) -> None:
    skip = tick(dagster_instance, datetime(2026, 11, 23, 21, 30, tzinfo=UTC), kpis="false")
    assert skip.skip_message == "KPIS_ENABLED is off"  # type: ignore[attr-defined]


def test_etims_off_still_computes_the_kpis_alone(dagster_instance: DagsterInstance) -> None:
    request = tick(dagster_instance, datetime(2026, 11, 23, 21, 30, tzinfo=UTC), etims="false")
    assert request.partition_key == "2026-11-23"  # type: ignore[attr-defined]
    assert request.asset_selection == [AssetKey("vendor_kpis")]  # type: ignore[attr-defined]


def test_the_skip_reason_reaches_the_tick(dagster_instance: DagsterInstance) -> None:
    context = build_schedule_context(
        dagster_instance,
        scheduled_execution_time=datetime(2026, 11, 23, 21, 30, tzinfo=UTC),
        resources={"feature_flags": FeatureFlagsResource(kpis_enabled="false")},
    )
    data = vendor_kpis_daily_schedule.evaluate_tick(context)
    assert data.skip_message == "KPIS_ENABLED is off" and not data.run_requests
