"""`etims-pipeline backfill-kpis --start D --end D`: the runbook's KPI backfill loop, replaced.

By default it launches a partition backfill of `vendor_kpis` on the Dagster instance ($DAGSTER_HOME), the
same kind of backfill the UI launches: the `dagster-daemon` turns it into runs of up to 31 days
(`DAILY_BACKFILL_POLICY`), and this command polls and prints progress until it ends. `--in-process`
computes the range here instead, 31 days at a time, without Dagster.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill

from etims_pipeline.assets.kpi_checks import VENDOR_KPIS
from etims_pipeline.nairobi_time import nairobi_days, parse_partition_key, partition_key
from etims_pipeline.partitions import DAYS_PER_RUN
from etims_pipeline.settings import FeatureFlags, database_url
from etims_pipeline.store.db import make_engine, redacted_url
from etims_pipeline.store.migrate import upgrade_to_head

_FINISHED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
_DONE_BACKFILL = {
    status.value
    for status in (BulkActionStatus.COMPLETED, BulkActionStatus.COMPLETED_SUCCESS, BulkActionStatus.COMPLETED_FAILED)
}


def launch_kpi_backfill(instance: DagsterInstance, first_day: date, last_day: date) -> str:
    """Register a backfill of vendor_kpis over the days; the backfill daemon creates its runs."""
    from etims_pipeline.definitions import defs

    backfill_id = uuid.uuid4().hex[:8]
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=backfill_id,
        asset_graph=defs.resolve_asset_graph(),
        partition_names=[partition_key(day) for day in nairobi_days(first_day, last_day)],
        asset_selection=[VENDOR_KPIS],
        backfill_timestamp=time.time(),
        tags={"etims/launched_by": "etims-pipeline backfill-kpis"},
        dynamic_partitions_store=instance,
        all_partitions=False,
        title=f"vendor_kpis {partition_key(first_day)}..{partition_key(last_day)}",
        description=None,
        run_config=None,
    )
    instance.add_backfill(backfill)
    return backfill_id


def backfill_progress(instance: DagsterInstance, backfill_id: str, keys: set[str]) -> tuple[str, int, int, int]:
    """(backfill status, runs finished, runs created, partitions of `keys` materialized) of a backfill."""
    backfill = instance.get_backfill(backfill_id)
    if backfill is None:
        raise LookupError(f"no backfill {backfill_id} on this Dagster instance")
    runs = instance.get_runs(filters=RunsFilter(tags={"dagster/backfill": backfill_id}))
    finished = sum(run.status in _FINISHED for run in runs)
    materialized = len(keys & instance.get_materialized_partitions(VENDOR_KPIS))
    return backfill.status.value, finished, len(runs), materialized


def _launch(args: argparse.Namespace, first_day: date, last_day: date) -> int:
    instance = DagsterInstance.get()  # needs DAGSTER_HOME
    backfill_id = launch_kpi_backfill(instance, first_day, last_day)
    keys = {partition_key(day) for day in nairobi_days(first_day, last_day)}
    days = len(keys)
    print(f"backfill {backfill_id} launched: vendor_kpis, {days} day(s); the dagster-daemon runs it")
    last_line = ""
    while True:
        status, finished, runs, materialized = backfill_progress(instance, backfill_id, keys)
        line = f"{status}: runs {finished}/{runs} done, partitions {materialized}/{days} materialized"
        if line != last_line:
            print(line, flush=True)
            last_line = line
        if status in _DONE_BACKFILL and finished == runs:
            return 0 if materialized == days else 1
        time.sleep(args.poll_seconds)


def _in_process(args: argparse.Namespace, first_day: date, last_day: date, say: Callable[[str], None]) -> int:
    from etims_pipeline.kpis.job import run_kpi_job

    if not FeatureFlags.from_env().kpis_enabled:
        say("KPI job skipped: KPIS_ENABLED is off. Enable KPIS_ENABLED and retry.")
        return 2
    url = args.database_url or database_url()
    engine = make_engine(url)
    failed = 0
    try:
        upgrade_to_head(engine)
        start = first_day
        while start <= last_day:
            end = min(start + timedelta(days=DAYS_PER_RUN - 1), last_day)
            began = time.perf_counter()
            result = run_kpi_job(engine, start, end, run_id=None)
            failed += len(result.failed_orgs)
            say(
                f"{partition_key(start)}..{partition_key(end)}: {len(result.rows_by_org)} org(s), "
                f"{len(result.failed_orgs)} failed, {time.perf_counter() - began:.1f}s ({redacted_url(url)})"
            )
            start = end + timedelta(days=1)
    finally:
        engine.dispose()
    return 1 if failed else 0


def _backfill_kpis(args: argparse.Namespace) -> int:
    first_day, last_day = parse_partition_key(args.start), parse_partition_key(args.end)
    if last_day < first_day:
        print(f"BAD_RANGE: --end {args.end} is before --start {args.start}", file=sys.stderr)
        return 2
    if args.in_process:
        return _in_process(args, first_day, last_day, print)
    return _launch(args, first_day, last_day)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "backfill-kpis", help="backfill vendor KPIs over a range of Nairobi days (a Dagster backfill, or in-process)"
    )
    parser.add_argument("--start", required=True, help="first Nairobi day, YYYY-MM-DD")
    parser.add_argument("--end", required=True, help="last Nairobi day, YYYY-MM-DD (inclusive)")
    parser.add_argument("--in-process", action="store_true", help="compute here in 31-day chunks, no Dagster run")
    parser.add_argument("--database-url", help="with --in-process: defaults to $ETIMS_DATABASE_URL")
    parser.add_argument("--poll-seconds", type=float, default=5.0, help="progress polling interval")
    parser.set_defaults(handler=_backfill_kpis)
