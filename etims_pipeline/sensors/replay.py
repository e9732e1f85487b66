"""`replay_fixed_orgs`: when an org becomes eligible again (valid KRA PIN and VERIFIED), replay its last 7 days.

Reads the trigger-fed change log (`org_status_changes`) past a cursor of database ids (see replay_cursor),
finds not-eligible → eligible transitions, and requests one ranged run per fix, keyed by the change id so
each fix replays exactly once. Orgs with nothing left to resubmit in the window are passed over (the cursor
still advances). A tick is three statements whatever the number of orgs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)
from sqlalchemy import inspect

from etims_pipeline.nairobi_time import now_utc
from etims_pipeline.resources.operational_db import OperationalDatabaseResource, cached_engine
from etims_pipeline.sensors.replay_cursor import ReplayCursor, fixes, plan_tick
from etims_pipeline.sensors.replay_run import (
    REASON_ORG_VERIFIED,
    REPLAY_DAYS,
    SUBMIT_INVOICES_JOB,
    ReplayRun,
    replay_window,
)
from etims_pipeline.settings import ConfigError, FeatureFlags
from etims_pipeline.store.replay_models import OrgStatusChange
from etims_pipeline.submission.org_changes import read_changes
from etims_pipeline.submission.outbox import candidate_org_ids

INTERVAL_ENV = "ETIMS_REPLAY_SENSOR_INTERVAL_SECONDS"
DEFAULT_INTERVAL_SECONDS = 30
MAX_RUN_REQUESTS = 200  # per tick; the cursor stops after the last change handled
SCAN_LIMIT = 5000  # change rows read per tick


def interval_seconds(environ: Mapping[str, str] | None = None) -> int:
    raw = (os.environ if environ is None else environ).get(INTERVAL_ENV, "").strip()
    if not raw:
        return DEFAULT_INTERVAL_SECONDS
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"CONFIG_INVALID_INTERVAL: {INTERVAL_ENV}={raw!r} must be a whole number of seconds >= 1")
    return int(raw)


@sensor(
    name="replay_fixed_orgs",
    job_name=SUBMIT_INVOICES_JOB,
    minimum_interval_seconds=interval_seconds(),
    default_status=DefaultSensorStatus.RUNNING,
    description="When an org becomes eligible again (valid KRA PIN and tax_status=VERIFIED), resubmit its held "
    "and rejected-but-retryable invoices of the last 7 Nairobi days in one run.",
)
def replay_fixed_orgs(
    context: SensorEvaluationContext, operational_db: OperationalDatabaseResource
) -> SensorResult | SkipReason:
    if not FeatureFlags.from_env().etims_enabled:
        return SkipReason("ETIMS_ENABLED is off")  # cursor kept: fixes made meanwhile replay once it is on
    engine = cached_engine(operational_db.url)  # not .engine(): the sensor must not race the loader's migration
    if not inspect(engine).has_table(OrgStatusChange.__tablename__):
        return SkipReason("the operational database is not migrated yet; run `etims-pipeline migrate`")
    cursor = ReplayCursor.parse(context.cursor)
    batch = read_changes(engine, cursor.last_id, cursor.gap_ids, SCAN_LIMIT)
    moment = now_utc()
    fixed = fixes(batch.changes)
    with_work = set(candidate_org_ids(engine, *replay_window(REPLAY_DAYS, moment), fixed, replay=True) if fixed else ())
    plan = plan_tick(cursor, batch, lambda c: c.is_fix and c.org_id in with_work, MAX_RUN_REQUESTS)
    runs = [ReplayRun.last_days(c.org_id, REPLAY_DAYS, moment, REASON_ORG_VERIFIED, c.id) for c in plan.to_replay]
    requests = [RunRequest(run_key=run.run_key, run_config=run.run_config(), tags=run.tags()) for run in runs]
    skipped = len(fixed - with_work)
    context.log.info(
        f"{len(batch.changes)} change(s) read, {len(requests)} replay(s) requested, "
        f"{skipped} fixed org(s) with nothing to resubmit; cursor {plan.cursor.to_json()}"
    )
    return SensorResult(
        run_requests=requests,
        cursor=plan.cursor.to_json(),
        skip_reason=None if requests else f"no org became eligible with invoices to resubmit ({skipped} fixed)",
    )
