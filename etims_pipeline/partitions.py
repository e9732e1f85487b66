"""The Nairobi daily partitions, defined once; every partitioned asset uses these."""

from __future__ import annotations

from datetime import date, timedelta

from dagster import AssetExecutionContext, BackfillPolicy, DailyPartitionsDefinition

from etims_pipeline.nairobi_time import NAIROBI_TZ_NAME

PARTITIONS_START = "2025-01-01"

# end_offset=1 makes the current Nairobi day materializable too (invoices arrive all day).
NAIROBI_DAILY = DailyPartitionsDefinition(start_date=PARTITIONS_START, timezone=NAIROBI_TZ_NAME, end_offset=1)

# A backfill runs as a few bounded runs of up to a month each, not one run per day.
DAYS_PER_RUN = 31
DAILY_BACKFILL_POLICY = BackfillPolicy.multi_run(max_partitions_per_run=DAYS_PER_RUN)


def partition_days(context: AssetExecutionContext) -> tuple[date, date]:
    """First and last Nairobi day of this run: one partition, or a range (backfill or replay)."""
    window = context.partition_time_window
    return window.start.date(), (window.end - timedelta(days=1)).date()
