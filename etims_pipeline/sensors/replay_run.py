"""The one run that replays an org: its last N Nairobi days as one ranged run, restricted to the org.

Shared by the replay sensor and the runbook's `submit-invoices` command, so both resubmit the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from etims_pipeline.nairobi_time import last_nairobi_days, parse_partition_key, partition_key
from etims_pipeline.partitions import PARTITIONS_START

SUBMIT_INVOICES_JOB = "submit_invoices_job"
REPLAY_DAYS = 7
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
REPLAY_ORG_TAG = "etims/replay_org"
REPLAY_REASON_TAG = "etims/replay_reason"
REPLAY_CHANGE_TAG = "etims/replay_change_id"
REASON_ORG_VERIFIED = "org_verified"  # the sensor saw the org become eligible
REASON_MANUAL = "manual"  # an operator ran `etims-pipeline submit-invoices`


def replay_window(days: int, moment: datetime) -> tuple[date, date]:
    """The `days` Nairobi days ending the day `moment` falls on, clamped to the first partition."""
    first, last = last_nairobi_days(days, moment)
    return max(first, parse_partition_key(PARTITIONS_START)), last


@dataclass(frozen=True)
class ReplayRun:
    org_id: int
    first_day: date
    last_day: date
    reason: str
    change_id: int | None = None

    @classmethod
    def last_days(
        cls, org_id: int, days: int, moment: datetime, reason: str, change_id: int | None = None
    ) -> ReplayRun:
        return cls(org_id, *replay_window(days, moment), reason, change_id)

    @property
    def run_key(self) -> str:
        return f"replay:{self.org_id}:{self.change_id}"

    def run_config(self) -> dict[str, Any]:
        return {"ops": {"submitted_invoices": {"config": {"org_ids": [self.org_id], "replay": True}}}}

    def tags(self) -> dict[str, str]:
        tags = {
            RANGE_START_TAG: partition_key(self.first_day),
            RANGE_END_TAG: partition_key(self.last_day),
            REPLAY_ORG_TAG: str(self.org_id),
            REPLAY_REASON_TAG: self.reason,
        }
        if self.change_id is not None:
            tags[REPLAY_CHANGE_TAG] = str(self.change_id)
        return tags
