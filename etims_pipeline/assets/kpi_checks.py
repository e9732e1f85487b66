"""The asset check of the vendor KPIs: the KPI table's totals reconcile with the invoice and attempt tables."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from dagster import AssetCheckResult, AssetCheckSpec, AssetKey, MetadataValue
from sqlalchemy import Engine

from etims_pipeline.kpis.reconcile import RECONCILED, reconcile

VENDOR_KPIS = AssetKey("vendor_kpis")
RECONCILE_CHECK = "kpis_reconcile_with_store"

KPI_CHECK_SPECS = [
    AssetCheckSpec(
        RECONCILE_CHECK,
        asset=VENDOR_KPIS,
        blocking=True,
        description="The range's KPI totals (invoices issued, accepted, rejected, held, gross sales, tax) equal "
        "an independent recount from the invoice and attempt tables.",
    )
]


def kpi_check_results(
    engine: Engine, first_day: date, last_day: date, failed_orgs: Collection[int]
) -> list[AssetCheckResult]:
    mismatches = reconcile(engine, first_day, last_day, failed_orgs)
    return [
        AssetCheckResult(
            check_name=RECONCILE_CHECK,
            passed=not mismatches,
            description=(
                "KPI totals differ from the store: "
                + ", ".join(f"{name} {kpi} ≠ {store}" for name, (kpi, store) in mismatches.items())
                if mismatches
                else f"{', '.join(RECONCILED)} reconcile"
            ),
            metadata={
                "mismatches": MetadataValue.json(
                    {name: [str(kpi), str(store)] for name, (kpi, store) in mismatches.items()}
                ),
                "orgs_left_out_failed": MetadataValue.json(sorted(failed_orgs)),
            },
        )
    ]
