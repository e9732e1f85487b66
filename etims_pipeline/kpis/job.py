"""One KPI job over a range of Nairobi days: read set-based, compute, write per org. The asset and the CLI call it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property

from sqlalchemy import Engine

from etims_pipeline.kpis.compute import KpiRow, compute_kpis, read_range_facts
from etims_pipeline.kpis.store import OrgOutcome, write_kpis


@dataclass(frozen=True)
class KpiJobResult:
    first_day: date
    last_day: date
    rows_by_org: dict[int, list[KpiRow]]
    outcomes: list[OrgOutcome]

    @cached_property
    def failed_orgs(self) -> dict[int, str]:
        return {o.org_id: o.error for o in self.outcomes if o.error is not None}

    @cached_property
    def written_rows(self) -> list[KpiRow]:
        failed = self.failed_orgs
        return [row for org_id, rows in self.rows_by_org.items() if org_id not in failed for row in rows]


def run_kpi_job(engine: Engine, first_day: date, last_day: date, run_id: str | None) -> KpiJobResult:
    rows_by_org = compute_kpis(read_range_facts(engine, first_day, last_day))
    outcomes = write_kpis(engine, first_day, last_day, rows_by_org, run_id)
    return KpiJobResult(first_day, last_day, rows_by_org, outcomes)
