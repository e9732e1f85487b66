"""Shape the range's query results into one KPI row per org and Nairobi day (pandas; no per-org queries).

Every org in the store gets a row for every day of the range, with zeros (and NULL rates, percentiles and
ages) on a day without activity. Definitions: docs/decisions.md, "Vendor KPI definitions".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
from sqlalchemy import Engine

from etims_pipeline.etims.codes import RECEIPT_CREDIT_NOTE, TAX_BANDS
from etims_pipeline.etims.money import db_money
from etims_pipeline.kpis import queries
from etims_pipeline.nairobi_time import backlog_cutoff_utc, day_start_utc, nairobi_days

KpiRow = dict[str, object]
COUNT_COLUMNS = (
    "invoices_issued",
    "sales_issued",
    "credit_note_count",
    "submitted",
    "accepted",
    "rejected",
    "held",
    "invalid",
)
KPI_BANDS = TAX_BANDS  # A–E: one taxable_x and tax_x column each
_ZERO = Decimal("0.00")
_RATE_PLACES = Decimal("0.0001")
_KEY = ["org_id", "kpi_date"]
Key = tuple[int, date]


@dataclass(frozen=True)
class RangeFacts:
    """Everything the KPIs of a range are computed from, read set-based in one connection."""

    first_day: date
    last_day: date
    org_ids: list[int]
    counts: pd.DataFrame
    reasons: pd.DataFrame
    bands: pd.DataFrame
    latencies: pd.DataFrame
    acceptances: pd.DataFrame
    backlog: pd.DataFrame
    numbers: queries.NumberSightings


def read_range_facts(engine: Engine, first_day: date, last_day: date) -> RangeFacts:
    with engine.connect() as conn:
        return RangeFacts(
            first_day=first_day,
            last_day=last_day,
            org_ids=queries.org_ids(conn),
            counts=queries.invoice_counts(conn, first_day, last_day),
            reasons=queries.rejection_reasons(conn, first_day, last_day),
            bands=queries.band_amounts(conn, first_day, last_day),
            latencies=queries.save_latencies(conn, first_day, last_day),
            acceptances=queries.acceptance_times(conn, first_day, last_day),
            backlog=queries.backlog_candidates(conn, first_day, last_day),
            numbers=queries.number_sightings(conn, first_day, last_day),
        )


def compute_kpis(facts: RangeFacts) -> dict[int, list[KpiRow]]:
    """KPI rows of every org for every day of the range, grouped by org (the unit of a write)."""
    days = nairobi_days(facts.first_day, facts.last_day)
    counts = _counts(facts.counts)
    latency = _percentiles(facts.latencies, "latency_seconds")
    delays = facts.acceptances.assign(
        seconds=(_utc(facts.acceptances["accepted_at"]) - _utc(facts.acceptances["issued_at"])).dt.total_seconds()
    )
    to_acceptance = _percentiles(delays, "seconds")
    backlog = _backlog(facts.backlog, days)
    gaps = _number_gaps(facts.numbers, days)
    reasons = _reasons(facts.reasons)
    amounts = _amounts(facts.bands)

    rows: dict[int, list[KpiRow]] = {}
    for org_id in facts.org_ids:
        org_rows = rows.setdefault(org_id, [])
        for day in days:
            key = (org_id, day)
            day_counts = counts.get(key, dict.fromkeys(COUNT_COLUMNS, 0))
            row: KpiRow = {"org_id": org_id, "kpi_date": day, **day_counts}
            row["acceptance_rate"] = _rate(day_counts["accepted"], day_counts["submitted"])
            row["rejected_by_reason"] = reasons.get(key, {})
            row.update(amounts.get(key, _no_amounts()))
            row["latency_p50_seconds"], row["latency_p95_seconds"] = latency.get(key, (None, None))
            row["issue_to_acceptance_p50_seconds"], row["issue_to_acceptance_p95_seconds"] = to_acceptance.get(
                key, (None, None)
            )
            row["backlog"], row["backlog_oldest_age_seconds"] = backlog.get(key, (0, None))
            row["invoice_number_gaps"] = gaps.get(key, 0)
            org_rows.append(row)
    return rows


def _counts(frame: pd.DataFrame) -> dict[Key, dict[str, int]]:
    """The count columns come after org_id and kpi_date, in COUNT_COLUMNS order (see queries.invoice_counts)."""
    return {
        (int(org_id), day): {column: int(value) for column, value in zip(COUNT_COLUMNS, values, strict=True)}
        for org_id, day, *values in frame.itertuples(index=False)
    }


def _utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True)


def _percentiles(frame: pd.DataFrame, column: str) -> dict[Key, tuple[float | None, float | None]]:
    """p50 and p95 per org and day (linear interpolation, as `submission.summary.percentile`)."""
    if frame.empty:
        return {}
    grouped = frame.astype({column: float}).groupby(_KEY)[column]
    p50, p95 = grouped.quantile(0.5), grouped.quantile(0.95)
    both = pd.concat([p50, p95], axis=1).reset_index()
    return {(int(org_id), day): (float(low), float(high)) for org_id, day, low, high in both.itertuples(index=False)}


def _rate(accepted: int, submitted: int) -> Decimal | None:
    if not submitted:
        return None
    return (Decimal(accepted) / Decimal(submitted)).quantize(_RATE_PLACES, rounding=ROUND_HALF_UP)


def _reasons(frame: pd.DataFrame) -> dict[tuple[int, date], dict[str, int]]:
    by_key: dict[tuple[int, date], dict[str, int]] = defaultdict(dict)
    for org_id, day, reason, count in frame.itertuples(index=False):
        by_key[int(org_id), day][str(reason)] = int(count)
    return {key: dict(sorted(reasons.items())) for key, reasons in by_key.items()}


def _no_amounts() -> dict[str, Decimal]:
    amounts = {"gross_sales": _ZERO, "credit_note_value": _ZERO}
    for band in KPI_BANDS:
        amounts[f"taxable_{band.lower()}"] = _ZERO
        amounts[f"tax_{band.lower()}"] = _ZERO
    return amounts


def _amounts(frame: pd.DataFrame) -> dict[tuple[int, date], dict[str, Decimal]]:
    """Band amounts of accepted sales, gross sales, and the value of accepted credit notes, in Decimal."""
    by_key: dict[tuple[int, date], dict[str, Decimal]] = {}
    for org_id, day, receipt_type, band, taxable, tax in frame.itertuples(index=False):
        amounts = by_key.setdefault((int(org_id), day), _no_amounts())
        taxable_amount, tax_amount = db_money(taxable), db_money(tax)
        if receipt_type == RECEIPT_CREDIT_NOTE:
            amounts["credit_note_value"] += taxable_amount + tax_amount
            continue
        amounts["gross_sales"] += taxable_amount + tax_amount
        if band in KPI_BANDS:
            amounts[f"taxable_{band.lower()}"] += taxable_amount
            amounts[f"tax_{band.lower()}"] += tax_amount
    return by_key


def _backlog(frame: pd.DataFrame, days: list[date]) -> dict[Key, tuple[int, int | None]]:
    """Per org and day: invoices issued by that day not in eTIMS at its cut-off, and the oldest one's age."""
    result: dict[Key, tuple[int, int | None]] = {}
    if frame.empty:
        return result
    issued_at, reached_at = _utc(frame["issued_at"]), _utc(frame["first_reached_at"])
    for day in days:
        cutoff = pd.Timestamp(backlog_cutoff_utc(day))
        waiting = (frame["issue_date"] <= day) & (reached_at.isna() | (reached_at >= cutoff))
        grouped = issued_at[waiting].groupby(frame["org_id"][waiting]).agg(["count", "min"])
        for org_id, count, oldest in grouped.itertuples():
            result[int(org_id), day] = (int(count), int((cutoff - oldest).total_seconds()))
    return result


def _number_gaps(numbers: queries.NumberSightings, days: list[date]) -> dict[Key, int]:
    """Per org and day: numbers below the highest seen by the end of the day that were never seen."""
    before = numbers.before.set_index("org_id")
    within = numbers.within.assign(first_seen_at=_utc(numbers.within["first_seen_at"]))
    gaps: dict[Key, int] = {}
    for day in days:
        day_end = pd.Timestamp(day_start_utc(day + timedelta(days=1)))
        seen = within[within["first_seen_at"] < day_end].groupby("org_id")["invoice_no"].agg(["max", "count"])
        highest = pd.concat([before["max_no"], seen["max"]], axis=1).max(axis=1)
        count = before["numbers"].add(seen["count"], fill_value=0)
        missing = (highest - count).dropna().rename("missing").reset_index()
        for org_id, number in missing.itertuples(index=False):
            gaps[int(org_id), day] = int(number)
    return gaps
