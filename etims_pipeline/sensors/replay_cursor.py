"""The replay sensor's cursor over `org_status_changes.id`, and how a tick advances it. No Dagster, no SQL.

The cursor is `{"last_id": N, "gaps": [[id, first_seen_iso], ...]}`. Ids are the database's sequence, so
clock skew between Dagster and the database can neither skip nor repeat a change. PostgreSQL hands out
ids at insert time but transactions commit in any order, so an id below `last_id` may still appear: such
missing ids are kept as gaps and read again on every tick until they appear, or until they are older than
`GAP_TIMEOUT` by the database's clock (then they were rolled back; a sequence never reuses an id).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from etims_pipeline.submission.org_changes import ChangeBatch, OrgChange

GAP_TIMEOUT = timedelta(minutes=10)
# A hole this large is a bulk rollback or a setval, not commits in flight; only its top ids are watched.
MAX_GAPS = 1000


@dataclass(frozen=True)
class ReplayCursor:
    last_id: int = 0
    gaps: tuple[tuple[int, str], ...] = ()  # (missing id, when first seen missing, database clock, ISO)

    @classmethod
    def parse(cls, raw: str | None) -> ReplayCursor:
        if not raw:
            return cls()
        document = json.loads(raw)
        return cls(
            last_id=int(document["last_id"]),
            gaps=tuple((int(gap_id), str(seen)) for gap_id, seen in document.get("gaps", [])),
        )

    def to_json(self) -> str:
        return json.dumps({"last_id": self.last_id, "gaps": [list(gap) for gap in self.gaps]})

    @property
    def gap_ids(self) -> list[int]:
        return [gap_id for gap_id, _ in self.gaps]


@dataclass(frozen=True)
class TickPlan:
    to_replay: list[OrgChange]
    cursor: ReplayCursor


def plan_tick(
    cursor: ReplayCursor, batch: ChangeBatch, wanted: Callable[[OrgChange], bool], max_requests: int
) -> TickPlan:
    """Walk the batch in id order, collecting wanted changes; stop before the one past `max_requests`.

    The cursor moves past every change handled (wanted or not) and no further, so the rest come next tick.
    """
    last_id = cursor.last_id
    gaps = dict(cursor.gaps)
    seen = batch.db_now.isoformat()
    to_replay: list[OrgChange] = []
    for change in sorted(batch.changes, key=lambda c: c.id):
        is_wanted = wanted(change)
        if is_wanted and len(to_replay) >= max_requests:
            break
        if change.id > last_id:
            for missing in range(max(last_id + 1, change.id - MAX_GAPS), change.id):
                gaps.setdefault(missing, seen)
            last_id = change.id
        else:
            gaps.pop(change.id, None)  # a late commit, handled now
        if is_wanted:
            to_replay.append(change)
    return TickPlan(to_replay, ReplayCursor(last_id, _live_gaps(gaps, batch.db_now)))


def _live_gaps(gaps: dict[int, str], db_now: datetime) -> tuple[tuple[int, str], ...]:
    live = sorted(
        (gap_id, seen) for gap_id, seen in gaps.items() if db_now - datetime.fromisoformat(seen) <= GAP_TIMEOUT
    )
    return tuple(live[-MAX_GAPS:])


def fixes(changes: Sequence[OrgChange]) -> set[int]:
    """Orgs that some change in the batch made eligible again."""
    return {change.org_id for change in changes if change.is_fix}
