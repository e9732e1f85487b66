"""The daily-partitioned `submitted_invoices` asset: every open invoice of the Nairobi day, sent to eTIMS.

Orgs are handled inside the run (one run a day for thousands of orgs), optionally restricted by run
config. The work itself lives in `etims_pipeline.submission`; this file is wiring and metadata.
"""

from dagster import AssetExecutionContext, Config, Failure, MaterializeResult, MetadataValue, asset
from pydantic import Field

from etims_pipeline.assets.submission_checks import SUBMISSION_CHECK_SPECS, submission_check_results
from etims_pipeline.nairobi_time import partition_key
from etims_pipeline.observability.logging import configure_json_logging
from etims_pipeline.partitions import DAILY_BACKFILL_POLICY, NAIROBI_DAILY, partition_days
from etims_pipeline.resources.etims_api import EtimsApiResource
from etims_pipeline.resources.feature_flags import FeatureFlagsResource
from etims_pipeline.resources.operational_db import OperationalDatabaseResource
from etims_pipeline.submission import audit
from etims_pipeline.submission.engine import SubmissionEngine, SubmissionRequest
from etims_pipeline.submission.summary import RunSummary, summarize, transitions

ETIMS_POOL = "etims_api"


class SubmissionConfig(Config):
    org_ids: list[int] = Field(default_factory=list, description="only these orgs; empty means every org")
    replay: bool = Field(
        default=False, description="also resend rejected-but-retryable invoices (a replay after an org or config fix)"
    )


def _by_org(values: dict[int, int] | dict[int, str]) -> MetadataValue:
    return MetadataValue.json({str(org_id): value for org_id, value in values.items()})


def _seconds(value: float | None) -> MetadataValue:
    return MetadataValue.float(round(value, 4)) if value is not None else MetadataValue.null()


def _metadata(summary: RunSummary, standing: dict[str, int], days: str) -> dict[str, MetadataValue]:
    counts = summary.by_status
    return {
        "days": MetadataValue.text(days),
        "invoices_processed": MetadataValue.int(summary.invoices_touched),
        "accepted": MetadataValue.int(counts.get("accepted", 0)),
        "rejected": MetadataValue.int(counts.get("rejected", 0)),
        "invalid": MetadataValue.int(counts.get("invalid", 0)),
        "held": MetadataValue.int(counts.get("held", 0)),
        "unresolved": MetadataValue.int(counts.get("unknown", 0) + counts.get("pending", 0)),
        "by_status": MetadataValue.json(counts),
        "rejections_by_reason": MetadataValue.json(summary.rejections_by_reason),
        "orgs_held_by_guard": MetadataValue.int(len(summary.held_orgs)),
        "held_invoices_by_org": _by_org(summary.held_orgs),
        "orgs_blocked": _by_org(summary.blocked_orgs),
        "orgs_halted": _by_org(summary.halted_orgs),
        "orgs_failed": _by_org(summary.failed_orgs),
        "skipped_claimed_by_other_run": MetadataValue.int(summary.skipped_claimed),
        "by_day": MetadataValue.json(summary.by_day),
        "save_calls": MetadataValue.int(summary.save_calls),
        "latency_p50_seconds": _seconds(summary.latency_p50),
        "latency_p95_seconds": _seconds(summary.latency_p95),
        "standing_by_status": MetadataValue.json(standing),
    }


def _change_metadata(
    replay: bool, before: dict[str, int], after: dict[str, int], moves: dict[str, int]
) -> dict[str, MetadataValue]:
    """What this run changed in its scope (its days and orgs): counts before and after, and the transitions."""
    return {
        "replay": MetadataValue.bool(replay),
        "scope_before_by_status": MetadataValue.json(before),
        "scope_after_by_status": MetadataValue.json(after),
        "transitions": MetadataValue.json(moves),
    }


@asset(
    partitions_def=NAIROBI_DAILY,
    backfill_policy=DAILY_BACKFILL_POLICY,
    pool=ETIMS_POOL,
    check_specs=SUBMISSION_CHECK_SPECS,
    group_name="etims",
    kinds={"python", "api"},
    description="Sales invoices and credit notes of the Nairobi day, submitted to KRA eTIMS (OSCU) under the "
    "org guard, with timeout-safe retries. Metadata: counts by status, rejections by reason, held orgs, latency.",
)
def submitted_invoices(
    context: AssetExecutionContext,
    config: SubmissionConfig,
    etims: EtimsApiResource,
    operational_db: OperationalDatabaseResource,
    feature_flags: FeatureFlagsResource,
) -> MaterializeResult:  # type: ignore[type-arg]  # Dagster reads a bare annotation
    configure_json_logging()
    first_day, last_day = partition_days(context)
    days = (
        partition_key(first_day) if first_day == last_day else f"{partition_key(first_day)}..{partition_key(last_day)}"
    )
    flags = feature_flags.load()
    engine = operational_db.engine()
    scope = tuple(config.org_ids) or None
    before = audit.status_counts(engine, first_day, last_day, scope)
    unsettled = audit.unsettled_statuses(engine, first_day, last_day, scope)
    request = SubmissionRequest(first_day, last_day, context.run.run_id, scope, replay=config.replay)
    with etims.open_client() as client:
        report = SubmissionEngine(engine, client, flags, etims.engine_settings()).submit(request)
    summary = summarize(report)
    if report.feature_disabled:
        raise Failure(
            description=f"ETIMS disabled: ETIMS_ENABLED is off, so {summary.invoices_touched} invoice(s) of {days} "
            "were not sent (recorded as feature_disabled). Enable the flag and retry.",
            metadata={"invoices_not_sent": summary.invoices_touched},
        )
    for org_id, message in summary.failed_orgs.items():
        context.log.error(f"org {org_id} failed and was skipped: {message}")
    for org in report.orgs:
        if org.blocked_message:
            context.log.warning(org.blocked_message)
    context.log.info(
        f"{days}: {summary.invoices_touched} invoices processed, by status {summary.by_status}, "
        f"rejections {summary.rejections_by_reason}"
    )
    after = audit.status_counts(engine, first_day, last_day, scope)
    standing = after if scope is None else audit.status_counts(engine, first_day, last_day)
    return MaterializeResult(
        metadata=_metadata(summary, standing, days)
        | _change_metadata(config.replay, before, after, transitions(unsettled, report)),
        check_results=submission_check_results(engine, first_day, last_day),
    )
