"""Set-based reads of the org status change log (migration 0003) for the replay sensor.

One statement returns the database's clock and a batch of change rows, each joined to the same org's
previous row (an index lookup on (org_id, id)), so a tick costs the same few statements at any org count.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, or_, select, true, type_coerce
from sqlalchemy.orm import aliased

from etims_pipeline.store.models import UtcDateTime
from etims_pipeline.store.replay_models import OrgStatusChange
from etims_pipeline.submission.guard import OrgSnapshot, evaluate_guard


def passes_guard(org_id: int, kra_pin: str | None, tax_status: str | None) -> bool:
    """The guard's own rule (valid KRA PIN and VERIFIED), so the sensor and the guard cannot disagree."""
    return evaluate_guard(OrgSnapshot(org_id=org_id, kra_pin=kra_pin, tax_status=tax_status or "")).passed


@dataclass(frozen=True)
class OrgChange:
    """One change row with the org's eligibility after it and just before it."""

    id: int
    org_id: int
    eligible: bool
    was_eligible: bool | None  # None: the org's first row (it was inserted), so nothing was fixed

    @property
    def is_fix(self) -> bool:
        return self.eligible and self.was_eligible is False


@dataclass(frozen=True)
class ChangeBatch:
    db_now: datetime
    changes: list[OrgChange]


def read_changes(engine: Engine, after_id: int, also_ids: Collection[int], limit: int) -> ChangeBatch:
    """Rows with id > after_id or id in also_ids (late commits), in id order, at most `limit`; and now()."""
    current, previous, earlier = aliased(OrgStatusChange), aliased(OrgStatusChange), aliased(OrgStatusChange)
    previous_id = (
        select(func.max(earlier.id))
        .where(earlier.org_id == current.org_id, earlier.id < current.id)
        .correlate(current)
        .scalar_subquery()
    )
    rows = (
        select(
            current.id,
            current.org_id,
            current.kra_pin,
            current.tax_status,
            previous.id.label("previous_id"),
            previous.kra_pin.label("previous_kra_pin"),
            previous.tax_status.label("previous_tax_status"),
        )
        .outerjoin(previous, previous.id == previous_id)
        .where(or_(current.id > after_id, current.id.in_(list(also_ids))))
        .order_by(current.id)
        .limit(limit)
        .subquery()
    )
    clock = select(type_coerce(func.current_timestamp(), UtcDateTime()).label("db_now")).subquery()
    query = select(clock.c.db_now, rows).select_from(clock.outerjoin(rows, true())).order_by(rows.c.id)
    with engine.connect() as connection:
        result = connection.execute(query).all()
    changes = [
        OrgChange(
            id=row.id,
            org_id=row.org_id,
            eligible=passes_guard(row.org_id, row.kra_pin, row.tax_status),
            was_eligible=None
            if row.previous_id is None
            else passes_guard(row.org_id, row.previous_kra_pin, row.previous_tax_status),
        )
        for row in result
        if row.id is not None
    ]
    return ChangeBatch(db_now=result[0].db_now, changes=changes)
