"""KPI backfill: the set-based range computation vs the runbook's per-org-per-day loop, on the same data.

Generates one year of invoices for 500 orgs (1–3 invoices per org-day, 1–2 lines each, one save attempt per
invoice that reached eTIMS), then times, in the same process:

(a) the backfill as the asset runs it: `run_kpi_job` over the year in chunks of 31 days (reads + writes);
(b) the runbook's loop: for each day, for each org, `aggregate_kpis_daily(org_id, day)`, which computes that
    org-day with its own queries (same KPI definitions) and writes its row. The loop is timed on a random
    sample of org-days (`--loop-sample`) and extrapolated to the whole year; the report says so.

    .venv/bin/python -m benchmarks.bench_kpi_backfill [--orgs 500] [--days 365] [--loop-sample 2000]
        [--database-url postgresql+psycopg2://postgres@127.0.0.1:5432/bench]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, delete, func, insert, or_, select

from etims_pipeline.etims.tax import line_amounts
from etims_pipeline.kpis.job import run_kpi_job
from etims_pipeline.nairobi_time import NAIROBI, backlog_cutoff_utc, day_bounds_utc, nairobi_days, to_utc
from etims_pipeline.store.db import make_engine, session_scope
from etims_pipeline.store.kpi_models import VendorKpiDaily
from etims_pipeline.store.migrate import upgrade_to_head
from etims_pipeline.store.models import Base, Invoice, InvoiceLine, SubmissionAttempt, TaxRateEntry, VendorOrg

FIRST_DAY = date(2025, 1, 1)
RATES = {"A": Decimal(0), "B": Decimal(16), "C": Decimal(0), "D": Decimal(0), "E": Decimal(8)}
STATUSES = ["accepted"] * 90 + ["rejected"] * 5 + ["held"] * 3 + ["pending"] * 2
BATCH = 20_000


def _flush(engine: Engine, table: type[Base], rows: list[dict[str, object]]) -> None:
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(table), rows)
        rows.clear()


def seed(engine: Engine, orgs: int, days: int, rng: random.Random) -> int:
    """Bulk-insert the dataset; returns the number of invoices."""
    with engine.begin() as conn:
        conn.execute(insert(TaxRateEntry), [{"band": b, "rate": r} for b, r in RATES.items()])
        conn.execute(
            insert(VendorOrg),
            [
                {
                    "id": o,
                    "name": f"Org {o}",
                    "kra_pin": f"P{o:09d}B",
                    "tax_status": "VERIFIED",
                    "device_serial": f"D{o}",
                }
                for o in range(1, orgs + 1)
            ],
        )
    invoices: list[dict[str, object]] = []
    lines: list[dict[str, object]] = []
    attempts: list[dict[str, object]] = []
    invoice_id = 0
    next_no = dict.fromkeys(range(1, orgs + 1), 1)
    for day in nairobi_days(FIRST_DAY, FIRST_DAY + timedelta(days=days - 1)):
        for org_id in range(1, orgs + 1):
            for _ in range(rng.randint(1, 3)):
                invoice_id += 1
                issued = to_utc(datetime.combine(day, clock(rng.randint(7, 20), rng.randint(0, 59)), tzinfo=NAIROBI))
                status = rng.choice(STATUSES)
                reached = status in ("accepted", "rejected")
                number = next_no[org_id] if reached else None
                if reached:
                    next_no[org_id] += 1 + (rng.random() < 0.001)  # a rare gap
                total = Decimal(0)
                for seq in range(1, rng.randint(1, 2) + 1):
                    band = rng.choice("ABCDE")
                    qty, price = Decimal(rng.randint(1, 5)), Decimal(rng.randint(100, 50_000)) / 100
                    lines.append(
                        {
                            "invoice_id": invoice_id,
                            "seq": seq,
                            "item_code": "KE1NTXU0000001",
                            "item_class_code": "5059690800",
                            "item_name": "Item",
                            "quantity": qty,
                            "unit_price": price,
                            "discount_rate": Decimal(0),
                            "tax_band": band,
                            "packaging_unit": "NT",
                            "quantity_unit": "U",
                        }
                    )
                    total += line_amounts(qty, price, Decimal(0), RATES[band]).total
                sent = issued + timedelta(minutes=rng.randint(1, 600))
                invoices.append(
                    {
                        "id": invoice_id,
                        "org_id": org_id,
                        "trader_invoice_no": f"T{invoice_id}",
                        "receipt_type": "S",
                        "payment_type": "01",
                        "issued_at": issued,
                        "issue_date": day,
                        "status": status,
                        "status_code": "910" if status == "rejected" else None,
                        "invoice_no": number,
                        "accepted_at": sent + timedelta(seconds=1) if status == "accepted" else None,
                        "total_amount": total,
                    }
                )
                if reached:
                    attempts.append(
                        {
                            "invoice_id": invoice_id,
                            "org_id": org_id,
                            "kind": "save",
                            "invoice_no": number,
                            "requested_at": sent,
                            "latency_seconds": rng.uniform(0.1, 3.0),
                            "outcome": status,
                            "reached_etims": True,
                        }
                    )
            if len(invoices) >= BATCH:
                _flush(engine, Invoice, invoices)
                _flush(engine, InvoiceLine, lines)
                _flush(engine, SubmissionAttempt, attempts)
    _flush(engine, Invoice, invoices)
    _flush(engine, InvoiceLine, lines)
    _flush(engine, SubmissionAttempt, attempts)
    return invoice_id


def set_based(engine: Engine, days: int) -> float:
    began = time.perf_counter()
    start, last = FIRST_DAY, FIRST_DAY + timedelta(days=days - 1)
    while start <= last:
        end = min(start + timedelta(days=30), last)
        run_kpi_job(engine, start, end, run_id="bench")
        start = end + timedelta(days=1)
    return time.perf_counter() - began


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return (
        values[0] if len(values) == 1 else statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]
    )


def aggregate_kpis_daily(engine: Engine, org_id: int, day: date) -> None:
    """The runbook's per-org-per-day aggregator: the same KPIs from this org-day's own queries."""
    i, a = Invoice, SubmissionAttempt
    with session_scope(engine) as s:
        rates = dict(s.execute(select(TaxRateEntry.band, TaxRateEntry.rate)).tuples().all())
        invoices = s.execute(
            select(i.id, i.receipt_type, i.status, i.status_code, i.issued_at, i.accepted_at).where(
                i.org_id == org_id, i.issue_date == day
            )
        ).all()
        reached = set(
            s.scalars(
                select(a.invoice_id).where(
                    a.org_id == org_id, a.reached_etims.is_(True), a.invoice_id.in_([v.id for v in invoices])
                )
            )
        )
        latencies = sorted(
            latency
            for latency in s.scalars(
                select(a.latency_seconds)
                .join(i, i.id == a.invoice_id)
                .where(
                    i.org_id == org_id,
                    i.issue_date == day,
                    a.kind == "save",
                    a.reached_etims.is_(True),
                    a.latency_seconds.is_not(None),
                )
            )
            if latency is not None  # already filtered in SQL; narrows the nullable column's type
        )
        row: dict[str, object] = {
            "org_id": org_id,
            "kpi_date": day,
            "gross_sales": Decimal(0),
            "credit_note_value": Decimal(0),
        }
        row.update({f"{k}_{b}": Decimal(0) for k in ("taxable", "tax") for b in "abcde"})
        for band, receipt_type, qty, price, discount in s.execute(
            select(
                InvoiceLine.tax_band,
                i.receipt_type,
                InvoiceLine.quantity,
                InvoiceLine.unit_price,
                InvoiceLine.discount_rate,
            )
            .join(i, i.id == InvoiceLine.invoice_id)
            .where(i.org_id == org_id, i.issue_date == day, i.status == "accepted")
        ):
            amounts = line_amounts(
                Decimal(str(qty)), Decimal(str(price)), Decimal(str(discount)), Decimal(str(rates.get(band, 0)))
            )
            if receipt_type == "R":
                row["credit_note_value"] += amounts.total  # type: ignore[operator]
                continue
            row["gross_sales"] += amounts.total  # type: ignore[operator]
            row[f"taxable_{band.lower()}"] += amounts.taxable  # type: ignore[operator]
            row[f"tax_{band.lower()}"] += amounts.tax  # type: ignore[operator]
        first_reached = (
            select(a.invoice_id, func.min(a.requested_at).label("at"))
            .where(a.reached_etims.is_(True), a.org_id == org_id)
            .group_by(a.invoice_id)
            .subquery()
        )
        cutoff = backlog_cutoff_utc(day)
        waiting = s.scalars(
            select(i.issued_at)
            .outerjoin(first_reached, first_reached.c.invoice_id == i.id)
            .where(
                i.org_id == org_id, i.issue_date <= day, or_(first_reached.c.at.is_(None), first_reached.c.at >= cutoff)
            )
        ).all()
        highest, seen = s.execute(
            select(func.max(a.invoice_no), func.count(a.invoice_no.distinct())).where(
                a.org_id == org_id, a.invoice_no.is_not(None), a.requested_at < day_bounds_utc(day)[1]
            )
        ).one()
        statuses = [v.status for v in invoices]
        delays = sorted(
            (v.accepted_at - v.issued_at).total_seconds() for v in invoices if v.status == "accepted" and v.accepted_at
        )
        reasons: dict[str, int] = {}
        for v in invoices:
            if v.status == "rejected":
                reasons[v.status_code or "unknown"] = reasons.get(v.status_code or "unknown", 0) + 1
        submitted, accepted = len(reached), statuses.count("accepted")
        row.update(
            invoices_issued=len(invoices),
            sales_issued=sum(v.receipt_type == "S" for v in invoices),
            credit_note_count=sum(v.receipt_type == "R" for v in invoices),
            submitted=submitted,
            accepted=accepted,
            rejected=statuses.count("rejected"),
            held=statuses.count("held"),
            invalid=statuses.count("invalid"),
            acceptance_rate=round(Decimal(accepted) / submitted, 4) if submitted else None,
            rejected_by_reason=reasons,
            latency_p50_seconds=_pct(latencies, 0.5),
            latency_p95_seconds=_pct(latencies, 0.95),
            issue_to_acceptance_p50_seconds=_pct(delays, 0.5),
            issue_to_acceptance_p95_seconds=_pct(delays, 0.95),
            backlog=len(waiting),
            backlog_oldest_age_seconds=int((cutoff - min(waiting)).total_seconds()) if waiting else None,
            invoice_number_gaps=(highest or 0) - seen,
        )
        s.execute(delete(VendorKpiDaily).where(VendorKpiDaily.org_id == org_id, VendorKpiDaily.kpi_date == day))
        s.execute(insert(VendorKpiDaily), [row])


def loop_sample(engine: Engine, orgs: int, days: int, sample: int, rng: random.Random) -> float:
    pairs = [(rng.randint(1, orgs), FIRST_DAY + timedelta(days=rng.randrange(days))) for _ in range(sample)]
    pairs.sort(key=lambda pair: (pair[1], pair[0]))  # the loop's order: for each day, for each org
    began = time.perf_counter()
    for org_id, day in pairs:
        aggregate_kpis_daily(engine, org_id, day)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=500)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--loop-sample", type=int, default=2000, help="org-days the loop is timed on")
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    args = parser.parse_args()
    rng = random.Random(20261125)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        engine = make_engine(url)
        upgrade_to_head(engine)
        began = time.perf_counter()
        invoices = seed(engine, args.orgs, args.days, rng)
        seeded = time.perf_counter() - began
        print(
            f"dataset: {args.orgs} orgs × {args.days} days, {invoices} invoices, {engine.dialect.name}, {seeded:.0f}s"
        )
        set_seconds = set_based(engine, args.days)
        org_days = args.orgs * args.days
        print(f"(a) set-based, 31-day chunks: {set_seconds:.1f}s for {org_days} org-days")
        sample_seconds = loop_sample(engine, args.orgs, args.days, args.loop_sample, rng)
        per_org_day = sample_seconds / args.loop_sample
        loop_seconds = per_org_day * org_days
        print(
            f"(b) per-org-per-day loop: {sample_seconds:.1f}s for a sample of {args.loop_sample} org-days "
            f"({per_org_day * 1000:.2f} ms each) → {loop_seconds:.0f}s extrapolated to {org_days}"
        )
        print(f"ratio (b)/(a): {loop_seconds / set_seconds:.0f}×")
        engine.dispose()


if __name__ == "__main__":
    main()
