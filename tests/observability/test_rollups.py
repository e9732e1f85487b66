"""Sealed rollups: a scrape shows the same series before and after sealing, old rows are read only through
their rollups, each period is sealed once however many sealers race, and a failed seal only costs speed."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, text, update

from etims_pipeline.observability.rollups import (
    SealMoved,
    attempt_groups,
    seal_closed_days,
    seal_or_log,
    seal_period,
    seal_target,
)
from etims_pipeline.store.metric_models import attempt_rollup_seal, attempt_rollups
from etims_pipeline.store.models import AttemptOutcome, SubmissionAttempt
from tests.observability.attempt_log import (
    Samples,
    append_attempts,
    blocked,
    invalid,
    lookup,
    read_without_sealing,
    save,
    scrape,
    value,
)

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 12:00 in Nairobi
TARGET = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)  # 00:00 Nairobi on 2026-11-24, yesterday


def _fill(engine: Engine) -> None:
    """A varied log on both sides of the seal, with rows exactly on it and a microsecond before it."""
    for at in (NOW - timedelta(days=30), NOW - timedelta(days=3), TARGET - timedelta(microseconds=1)):
        append_attempts(
            engine,
            save(AttemptOutcome.ACCEPTED, 0.3),
            save(AttemptOutcome.TIMEOUT, 30.0),
            lookup(AttemptOutcome.FOUND, 0.2),
            save(AttemptOutcome.REJECTED, 2.5),
            save(AttemptOutcome.TRANSIENT),  # never reached eTIMS: no latency
            blocked("org_not_verified"),
            invalid("BAD_PIN"),
            at=at,
        )
    append_attempts(engine, save(AttemptOutcome.ACCEPTED, 0.05), blocked("feature_disabled"), at=TARGET)
    append_attempts(engine, save(AttemptOutcome.ACCEPTED, 7.0), lookup(AttemptOutcome.NOT_FOUND, 0.1), at=NOW)


def assert_same_series(left: Samples, right: Samples) -> None:
    """Equal series; latency sums equal up to float rounding (the database adds them in another order)."""
    assert left.keys() == right.keys()
    for key, number in left.items():
        assert number == pytest.approx(right[key], rel=1e-12), key


def _sealed_before(engine: Engine) -> datetime | None:
    with engine.connect() as connection:
        value: datetime | None = connection.scalar(select(attempt_rollup_seal.c.sealed_before))
    return value


def _periods(engine: Engine) -> list[tuple[datetime | None, datetime]]:
    with engine.connect() as connection:
        rows = connection.execute(select(attempt_rollups.c.period_start, attempt_rollups.c.period_end).distinct())
        return sorted(((start, end) for start, end in rows), key=lambda period: period[1])


def test_the_seal_stays_a_nairobi_day_behind() -> None:
    assert seal_target(NOW) == TARGET
    assert seal_target(datetime(2026, 11, 25, 20, 59, 59, tzinfo=UTC)) == TARGET  # 23:59:59 in Nairobi
    assert seal_target(datetime(2026, 11, 25, 21, 0, tzinfo=UTC)) == TARGET + timedelta(days=1)  # Nairobi midnight


def test_sealing_changes_no_series(engine: Engine) -> None:
    _fill(engine)
    unsealed = read_without_sealing(engine)

    assert seal_closed_days(engine, NOW)

    assert _sealed_before(engine) == TARGET
    assert _periods(engine) == [(None, TARGET)]
    assert_same_series(read_without_sealing(engine), unsealed)
    assert value(unsealed, "invoices_submitted_total", status="accepted") == 8  # 3 x (save + found) + 2
    assert value(unsealed, "etims_latency_count", status="accepted") == 5


def test_sealed_rows_are_read_only_through_their_rollups(engine: Engine) -> None:
    _fill(engine)
    seal_closed_days(engine, NOW)
    sealed = read_without_sealing(engine)

    with engine.begin() as connection:  # a test-only tamper with the append-only log
        connection.execute(
            update(SubmissionAttempt).where(SubmissionAttempt.requested_at < TARGET).values(outcome="rejected")
        )
    assert_same_series(read_without_sealing(engine), sealed)

    with engine.begin() as connection:
        connection.execute(
            update(SubmissionAttempt).where(SubmissionAttempt.requested_at >= TARGET).values(outcome="rejected")
        )
    assert read_without_sealing(engine) != sealed


def test_the_seal_moves_a_day_at_a_time_and_never_seals_twice(engine: Engine) -> None:
    _fill(engine)
    unsealed = read_without_sealing(engine)

    assert seal_closed_days(engine, NOW)
    assert not seal_closed_days(engine, NOW)  # nothing new to seal
    assert not seal_closed_days(engine, NOW - timedelta(days=2))  # a clock behind never moves it back
    assert seal_closed_days(engine, NOW + timedelta(days=1))

    assert _periods(engine) == [(None, TARGET), (TARGET, TARGET + timedelta(days=1))]
    assert_same_series(read_without_sealing(engine), unsealed)


def test_a_sealer_that_read_an_old_seal_rolls_back(engine: Engine) -> None:
    _fill(engine)
    seal_closed_days(engine, NOW)
    sealed = read_without_sealing(engine)

    with pytest.raises(SealMoved), engine.begin() as connection:
        seal_period(connection, None, TARGET)  # what a replica that read the seal before the first one did

    assert _periods(engine) == [(None, TARGET)]
    assert_same_series(read_without_sealing(engine), sealed)


def _groups(engine: Engine, seal: datetime | None) -> dict[tuple[object, ...], tuple[object, ...]]:
    """The aggregates per group as of `seal`, numbers compared up to float rounding."""
    with engine.connect() as connection:
        rows = connection.execute(attempt_groups(seal)).all()
    return {tuple(row[:4]): tuple(pytest.approx(number, rel=1e-12) for number in row[4:]) for row in rows}


def test_a_scrape_that_read_an_older_seal_is_exact_after_newer_seals(engine: Engine) -> None:
    _fill(engine)
    truth = _groups(engine, None)

    seal_closed_days(engine, NOW)
    seal_closed_days(engine, NOW + timedelta(days=1))

    # What a scrape computes if it read the seal (None, then TARGET) just before a newer one committed.
    assert _groups(engine, None) == truth
    assert _groups(engine, TARGET) == truth
    assert _groups(engine, TARGET + timedelta(days=1)) == truth


def test_racing_sealers_seal_each_period_once(engine: Engine) -> None:
    _fill(engine)
    unsealed = read_without_sealing(engine)
    both_read_the_seal = threading.Barrier(2)
    outcomes: list[str] = []

    def sealer() -> None:
        current = _sealed_before(engine)
        both_read_the_seal.wait()
        try:
            with engine.begin() as connection:
                seal_period(connection, current, TARGET)
            outcomes.append("sealed")
        except SealMoved:
            outcomes.append("lost")

    threads = [threading.Thread(target=sealer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["lost", "sealed"]
    assert _periods(engine) == [(None, TARGET)]
    assert_same_series(read_without_sealing(engine), unsealed)


def test_a_scrape_seals_and_a_failed_seal_only_costs_speed(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    append_attempts(engine, save(AttemptOutcome.ACCEPTED, 0.3), at=NOW - timedelta(days=10))
    samples: Samples = scrape(engine)
    assert _sealed_before(engine) == seal_target(datetime.now(UTC))
    assert value(samples, "invoices_submitted_total", status="accepted") == 1

    with engine.begin() as connection:
        connection.execute(text("DROP TABLE attempt_rollup_seal"))
    with caplog.at_level(logging.WARNING, logger="etims_pipeline.observability.rollups"):
        seal_or_log(engine)  # no exception: the scrape goes on
    assert "attempt rollups not sealed" in caplog.text


def test_rollup_rows_stay_few(engine: Engine) -> None:
    _fill(engine)
    seal_closed_days(engine, NOW)
    with engine.connect() as connection:
        groups = connection.scalar(select(func.count()).select_from(attempt_rollups))
    assert groups == 7  # one per (kind, outcome, reason, reached_etims) sealed, whatever the row count
