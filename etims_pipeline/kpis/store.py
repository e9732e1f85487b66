"""Write a range's KPI rows idempotently, one org per SAVEPOINT, and record each org's outcome.

One transaction replaces the range: for each org, its rows of the range are deleted and re-inserted
inside a SAVEPOINT, so an org whose rows violate a constraint keeps its previous rows and fails alone.
Each outcome is appended to `kpi_job_outcomes` (the source of `kpi_jobs_success` / `kpi_jobs_fail`)
in the same transaction, and logged on the `metrics` logger once committed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, delete, insert
from sqlalchemy.exc import SQLAlchemyError

from etims_pipeline.kpis.compute import KpiRow
from etims_pipeline.observability.logging import log_metric
from etims_pipeline.observability.metrics import KPI_JOBS_FAIL, KPI_JOBS_SUCCESS
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.kpi_models import KpiJobOutcome, VendorKpiDaily

_ERROR_CHARS = 500


@dataclass(frozen=True)
class OrgOutcome:
    org_id: int
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None


def write_kpis(
    engine: Engine, first_day: date, last_day: date, rows_by_org: Mapping[int, Sequence[KpiRow]], run_id: str | None
) -> list[OrgOutcome]:
    """Replace the range's rows org by org; returns each org's outcome (failures do not raise)."""
    outcomes: list[OrgOutcome] = []
    with session_scope(engine) as session:
        for org_id, rows in sorted(rows_by_org.items()):
            try:
                with session.begin_nested():
                    session.execute(
                        delete(VendorKpiDaily).where(
                            VendorKpiDaily.org_id == org_id, VendorKpiDaily.kpi_date.between(first_day, last_day)
                        )
                    )
                    session.execute(insert(VendorKpiDaily), [{**row, "run_id": run_id} for row in rows])
                outcomes.append(OrgOutcome(org_id))
            except SQLAlchemyError as exc:
                reason = getattr(exc, "orig", None) or exc  # the driver's message, without the statement
                outcomes.append(OrgOutcome(org_id, f"{type(reason).__name__}: {reason}"[:_ERROR_CHARS]))
        if outcomes:
            session.execute(
                insert(KpiJobOutcome),
                [
                    {
                        "org_id": outcome.org_id,
                        "first_day": first_day,
                        "last_day": last_day,
                        "run_id": run_id,
                        "succeeded": outcome.succeeded,
                        "error": outcome.error,
                    }
                    for outcome in outcomes
                ],
            )
    for outcome in outcomes:
        log_metric(KPI_JOBS_SUCCESS if outcome.succeeded else KPI_JOBS_FAIL, {"org_id": str(outcome.org_id)}, 1)
    return outcomes
