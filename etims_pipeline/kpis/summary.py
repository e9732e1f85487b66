"""What the UI shows about a KPI run: the range's totals and the worst orgs, from the rows just computed."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from etims_pipeline.kpis.compute import KPI_BANDS, KpiRow

WORST_ORGS = 5


def _int(row: KpiRow, name: str) -> int:
    value = row[name]
    assert isinstance(value, int)
    return value


def _money(row: KpiRow, name: str) -> Decimal:
    value = row[name]
    assert isinstance(value, Decimal)
    return value


def range_totals(rows: Sequence[KpiRow]) -> dict[str, int | float | Decimal | None]:
    """Totals over every org and day of the range: orgs, invoices, acceptance, money."""
    submitted = sum(_int(row, "submitted") for row in rows)
    accepted = sum(_int(row, "accepted") for row in rows)
    return {
        "orgs": len({row["org_id"] for row in rows}),
        "invoices_issued": sum(_int(row, "invoices_issued") for row in rows),
        "submitted": submitted,
        "accepted": accepted,
        "rejected": sum(_int(row, "rejected") for row in rows),
        "held": sum(_int(row, "held") for row in rows),
        "acceptance_rate": round(accepted / submitted, 4) if submitted else None,
        "gross_sales": sum((_money(row, "gross_sales") for row in rows), Decimal("0.00")),
        "tax": sum((_money(row, f"tax_{band.lower()}") for row in rows for band in KPI_BANDS), Decimal("0.00")),
    }


def worst_orgs_markdown(rows: Sequence[KpiRow], limit: int = WORST_ORGS) -> str:
    """The orgs with the lowest acceptance rate over the range, then those with the largest final backlog."""
    by_org: dict[object, list[KpiRow]] = {}
    for row in rows:
        by_org.setdefault(row["org_id"], []).append(row)
    lines = [
        "| org | submitted | accepted | acceptance rate | backlog (last day) | oldest waiting (h) |",
        "|---|---|---|---|---|---|",
    ]
    ranked = []
    for org_id, org_rows in by_org.items():
        submitted = sum(_int(r, "submitted") for r in org_rows)
        accepted = sum(_int(r, "accepted") for r in org_rows)
        last = max(org_rows, key=lambda r: str(r["kpi_date"]))
        rate = accepted / submitted if submitted else None
        age = last["backlog_oldest_age_seconds"]
        ranked.append((org_id, submitted, accepted, rate, _int(last, "backlog"), age))
    ranked.sort(key=lambda r: (r[3] if r[3] is not None else 2.0, -r[4]))
    for org_id, submitted, accepted, rate, backlog, age in ranked[:limit]:
        rate_text = f"{rate:.1%}" if rate is not None else "–"
        age_text = f"{int(age) / 3600:.1f}" if isinstance(age, int) else "–"
        lines.append(f"| {org_id} | {submitted} | {accepted} | {rate_text} | {backlog} | {age_text} |")
    return "\n".join(lines)
