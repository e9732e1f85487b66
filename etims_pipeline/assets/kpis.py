"""The daily-partitioned `vendor_kpis` asset: every org's KPIs for a Nairobi day (or a backfill range).

The KPIs of the whole range are computed set-based in one run (`etims_pipeline.kpis`); this file is
wiring: the KPIS_ENABLED flag, metadata, the reconciliation check, the freshness expectation.
"""

from datetime import timedelta

from dagster import AssetExecutionContext, Failure, FreshnessPolicy, MaterializeResult, MetadataValue, asset

from etims_pipeline.assets.kpi_checks import KPI_CHECK_SPECS, kpi_check_results
from etims_pipeline.assets.submissions import submitted_invoices
from etims_pipeline.kpis.job import KpiJobResult, run_kpi_job
from etims_pipeline.kpis.summary import range_totals, worst_orgs_markdown
from etims_pipeline.nairobi_time import NAIROBI_TZ_NAME, partition_key
from etims_pipeline.observability.logging import configure_json_logging
from etims_pipeline.partitions import DAILY_BACKFILL_POLICY, NAIROBI_DAILY, partition_days
from etims_pipeline.resources.feature_flags import FeatureFlagsResource
from etims_pipeline.resources.operational_db import OperationalDatabaseResource

KPIS_DISABLED = "KPI job skipped: KPIS_ENABLED is off. Enable KPIS_ENABLED and materialize again."

# Each day by 01:30 Nairobi, a materialization of the last 24 h must exist: a missed 00:30 run shows as stale.
KPI_FRESHNESS = FreshnessPolicy.cron(
    deadline_cron="30 1 * * *", lower_bound_delta=timedelta(hours=24), timezone=NAIROBI_TZ_NAME
)


def _metadata(result: KpiJobResult) -> dict[str, MetadataValue]:
    first, last = partition_key(result.first_day), partition_key(result.last_day)
    totals = range_totals(result.written_rows)
    rate = totals["acceptance_rate"]
    return {
        "days": MetadataValue.text(first if first == last else f"{first}..{last}"),
        "orgs": MetadataValue.int(int(totals["orgs"] or 0)),
        "invoices_issued": MetadataValue.int(int(totals["invoices_issued"] or 0)),
        "accepted": MetadataValue.int(int(totals["accepted"] or 0)),
        "rejected": MetadataValue.int(int(totals["rejected"] or 0)),
        "held": MetadataValue.int(int(totals["held"] or 0)),
        "acceptance_rate": MetadataValue.float(float(rate)) if rate is not None else MetadataValue.null(),
        "gross_sales": MetadataValue.float(float(totals["gross_sales"] or 0)),
        "tax": MetadataValue.float(float(totals["tax"] or 0)),
        "worst_orgs": MetadataValue.md(worst_orgs_markdown(result.written_rows)),
        "orgs_failed": MetadataValue.int(len(result.failed_orgs)),
        "failed_orgs": MetadataValue.json({str(org_id): error for org_id, error in result.failed_orgs.items()}),
    }


@asset(
    partitions_def=NAIROBI_DAILY,
    backfill_policy=DAILY_BACKFILL_POLICY,
    deps=[submitted_invoices],
    check_specs=KPI_CHECK_SPECS,
    freshness_policy=KPI_FRESHNESS,
    group_name="kpis",
    kinds={"python", "sql"},
    description="Daily KPIs of every vendor org (table vendor_kpis_daily): invoices issued, submitted, accepted, "
    "rejected by reason, held, invalid, acceptance rate, gross sales, taxable and tax per band A–E, credit notes, "
    "save latency and issue-to-acceptance p50/p95, backlog and its age, invoice-number gaps. A backfill computes "
    "up to 31 days per run, set-based. Metadata: the range's totals and the worst orgs. Needs KPIS_ENABLED.",
)
def vendor_kpis(
    context: AssetExecutionContext,
    operational_db: OperationalDatabaseResource,
    feature_flags: FeatureFlagsResource,
) -> MaterializeResult:  # type: ignore[type-arg]  # Dagster reads a bare annotation
    configure_json_logging()
    if not feature_flags.load().kpis_enabled:
        raise Failure(description=KPIS_DISABLED)
    first_day, last_day = partition_days(context)
    engine = operational_db.engine()
    result = run_kpi_job(engine, first_day, last_day, context.run.run_id)
    for org_id, error in result.failed_orgs.items():
        context.log.error(f"org {org_id}: KPIs not written ({error}); its previous rows are kept")
    context.log.info(f"KPIs of {len(result.rows_by_org)} org(s) for {first_day}..{last_day} computed")
    return MaterializeResult(
        metadata=_metadata(result),
        check_results=kpi_check_results(engine, first_day, last_day, result.failed_orgs),
    )
