"""The attempt log's aggregates for a scrape: sealed rollups of old rows plus the recent rows themselves.

The tables are described in `store.metric_models`. Two operations:

- `attempt_groups(sealed_before)` is one statement giving, per attempt group (kind, outcome, reason,
  reached_etims), the count, latency count and sum, and cumulative latency bucket counts over the whole
  log: the rollups of the periods up to the seal plus the rows requested from it on. Sealed periods tile
  time and each seal commits its rollups with the seal's move, so this is exact whatever seals meanwhile.
- `seal_closed_days()` moves the seal up to 00:00 Nairobi yesterday, inserting the rollups of the rows in
  between, in one transaction that commits only if the seal is still where it was read (compare-and-set):
  two health service replicas sealing at once never seal a period twice.

Why a day behind: a row is written within seconds of its `requested_at` (the call timeout at most), so no
row can still arrive for a period before yesterday; the seal never covers a period that may still grow.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Engine,
    Float,
    Select,
    case,
    cast,
    false,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from etims_pipeline.nairobi_time import day_start_utc, now_utc, previous_nairobi_day
from etims_pipeline.store.metric_models import (
    LATENCY_BUCKETS,
    SEAL_ROW_ID,
    attempt_rollup_seal,
    attempt_rollups,
    bucket_column,
)
from etims_pipeline.store.models import SubmissionAttempt, UtcDateTime

GROUP_KEYS = ("kind", "outcome", "reason", "reached_etims")
BUCKET_COLUMNS = tuple(bucket_column(bound) for bound in LATENCY_BUCKETS)
AGGREGATES = ("attempts", "observed", "latency_sum", *BUCKET_COLUMNS)

logger = logging.getLogger(__name__)


class SealMoved(Exception):
    """Another sealer moved the seal first: this transaction's rollups are rolled back."""


def _log_aggregates(*conditions: ColumnElement[bool]) -> Select[Any]:
    """Per group of the attempt rows matching `conditions`: the columns GROUP_KEYS + AGGREGATES, in order."""
    latency = SubmissionAttempt.latency_seconds
    keys = [getattr(SubmissionAttempt, key) for key in GROUP_KEYS]
    return (
        select(
            *keys,
            func.count().label("attempts"),
            func.count(latency).label("observed"),
            func.coalesce(func.sum(latency), 0.0).label("latency_sum"),
            # `<=` per bound makes each bucket cumulative, as Prometheus expects.
            *(
                func.sum(case((latency <= bound, 1), else_=0)).label(name)
                for bound, name in zip(LATENCY_BUCKETS, BUCKET_COLUMNS, strict=True)
            ),
        )
        .where(*conditions)
        .group_by(*keys)
    )


def attempt_groups(sealed_before: datetime | None) -> Select[Any]:
    """The whole log's aggregates per group, as of the seal `sealed_before`: the rollups of the periods up to
    it plus the rows requested from it on. Rollups sealed after it was read are left out, so a concurrent
    seal can neither double nor drop a row; and the bound is a value the planner sees, so the
    requested_at index serves the recent part."""
    sealed_periods: ColumnElement[bool]
    if sealed_before is None:
        recent, sealed_periods = _log_aggregates(), false()
    else:
        recent = _log_aggregates(SubmissionAttempt.requested_at >= sealed_before)
        sealed_periods = attempt_rollups.c.period_end <= sealed_before
    sealed = select(*(attempt_rollups.c[name] for name in (*GROUP_KEYS, *AGGREGATES))).where(sealed_periods)
    both = union_all(recent, sealed).subquery()
    keys = [both.c[key] for key in GROUP_KEYS]
    # Sums of integers are NUMERIC on PostgreSQL: cast back, so every dialect gives ints and floats.
    totals = [
        cast(func.sum(both.c[name]), Float if name == "latency_sum" else BigInteger).label(name) for name in AGGREGATES
    ]
    return select(*keys, *totals).group_by(*keys)


def sealed_before(connection: Connection) -> datetime | None:
    """Where the seal is: every attempt requested before it is in the rollups (None: nothing sealed yet)."""
    value: datetime | None = connection.scalar(
        select(attempt_rollup_seal.c.sealed_before).where(attempt_rollup_seal.c.id == SEAL_ROW_ID)
    )
    return value


def seal_target(now: datetime) -> datetime:
    """Where the seal should be at `now`: 00:00 Nairobi of yesterday."""
    return day_start_utc(previous_nairobi_day(now))


def seal_closed_days(engine: Engine, now: datetime | None = None) -> bool:
    """Fold the rows before `seal_target(now)` that are not sealed yet into rollups; True if this call did."""
    target = seal_target(now or now_utc())
    with engine.connect() as connection:
        current = sealed_before(connection)
    if current is not None and current >= target:
        return False
    try:
        with engine.begin() as connection:
            seal_period(connection, current, target)
    except SealMoved:
        return False
    return True


def seal_period(connection: Connection, current: datetime | None, target: datetime) -> None:
    """Insert the rollups of the rows in [current, target) and move the seal from `current` to `target`.

    Raises `SealMoved` (the caller's transaction then rolls back) when the seal is no longer at `current`.
    """
    window = [SubmissionAttempt.requested_at < target]
    if current is not None:
        window.append(SubmissionAttempt.requested_at >= current)
    groups = _log_aggregates(*window).subquery()
    period = (literal(current, UtcDateTime()).label("period_start"), literal(target, UtcDateTime()).label("period_end"))
    connection.execute(
        insert(attempt_rollups).from_select(
            ["period_start", "period_end", *GROUP_KEYS, *AGGREGATES], select(*period, *groups.c)
        )
    )
    seal = attempt_rollup_seal.c
    still_there = seal.sealed_before.is_(None) if current is None else seal.sealed_before == current
    moved = connection.execute(
        update(attempt_rollup_seal).where(seal.id == SEAL_ROW_ID, still_there).values(sealed_before=target)
    )
    if moved.rowcount != 1:
        raise SealMoved


def seal_or_log(engine: Engine) -> None:
    """Seal what can be sealed; a failure (say, a read-only database user) costs only scrape speed."""
    try:
        seal_closed_days(engine)
    except SQLAlchemyError as exc:
        logger.warning(
            "attempt rollups not sealed (%s); scrapes count the log from the last seal on", type(exc).__name__
        )
