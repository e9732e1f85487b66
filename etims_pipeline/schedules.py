"""The daily close at 00:30 Africa/Nairobi: submit the previous day's remaining invoices, then its KPIs.

One run (`daily_close_job`) does both, so the KPIs see the day's final submissions. With ETIMS_ENABLED
off but KPIS_ENABLED on, the run computes only the KPIs; with KPIS_ENABLED off the tick is skipped.
"""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
)

from etims_pipeline.assets.kpis import vendor_kpis
from etims_pipeline.assets.submissions import submitted_invoices
from etims_pipeline.nairobi_time import NAIROBI_TZ_NAME, now_utc, partition_key, previous_nairobi_day
from etims_pipeline.resources.feature_flags import FeatureFlagsResource

KPIS_OFF = "KPIS_ENABLED is off"

daily_close_job = define_asset_job(
    "daily_close_job",
    selection=AssetSelection.assets(submitted_invoices, vendor_kpis),
    description="The daily close of a Nairobi day: submit its remaining invoices to eTIMS, then compute its KPIs.",
)


@schedule(
    cron_schedule="30 0 * * *",
    execution_timezone=NAIROBI_TZ_NAME,
    job=daily_close_job,
    default_status=DefaultScheduleStatus.RUNNING,
    description="00:30 Africa/Nairobi: the daily close of the previous Nairobi day (runbook: KPI job at 00:30).",
)
def vendor_kpis_daily_schedule(
    context: ScheduleEvaluationContext, feature_flags: FeatureFlagsResource
) -> RunRequest | SkipReason:
    flags = feature_flags.load()
    if not flags.kpis_enabled:
        return SkipReason(KPIS_OFF)
    day = partition_key(previous_nairobi_day(context.scheduled_execution_time or now_utc()))
    if flags.etims_enabled:
        return RunRequest(run_key=day, partition_key=day)
    return RunRequest(run_key=day, partition_key=day, asset_selection=[vendor_kpis.key])
