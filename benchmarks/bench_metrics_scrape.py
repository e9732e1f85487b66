"""Benchmark: one `/metrics` scrape as the attempt log ages, counting every row vs through sealed rollups.

On a fresh PostgreSQL database: one org and invoice, then `--per-day` attempt rows for each of the last
`--days` days (a mix of saves, lookups, blocks and validations; latencies 0–2 s), by INSERT … SELECT from
generate_series. Each step of `--days` extends the same log further into the past, so the recent rows stay
the same and only the history grows. For each step it times, in the same session:

- baseline: the scrape with nothing sealed (the seal reset to NULL), i.e. one GROUP BY over every row,
  which is what every scrape did before the rollups;
- sealed: the scrape after `seal_closed_days` (rows before yesterday folded into rollups);
- the seal itself, from nothing (the one-off cost after an upgrade).

It checks that both scrapes expose the same series before timing them. Run from the repository root:

    .venv/bin/python -m benchmarks.bench_metrics_scrape [--per-day 8000] [--days 90 365 1095] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, delete, text, update

from etims_pipeline.observability.metrics import build_registry
from etims_pipeline.observability.rollups import seal_closed_days
from etims_pipeline.store.db import make_engine, session_scope
from etims_pipeline.store.metric_models import attempt_rollup_seal, attempt_rollups
from etims_pipeline.store.migrate import upgrade_to_head
from etims_pipeline.store.models import Invoice, TaxStatus, VendorOrg
from tests.conftest import POSTGRES_ADMIN_URL
from tests.databases import fresh_database

# One row in ten is a lookup, one in twenty a guard block, one in fifty a validation failure.
APPEND_ROWS = """
INSERT INTO submission_attempts (invoice_id, org_id, kind, requested_at, latency_seconds, outcome, reason,
                                 reached_etims)
SELECT :invoice_id, 1,
       CASE WHEN g % 20 = 0 THEN 'blocked' WHEN g % 50 = 1 THEN 'validation'
            WHEN g % 10 = 3 THEN 'lookup' ELSE 'save' END,
       now() - make_interval(secs => (g + :offset) * :spacing),
       CASE WHEN g % 20 = 0 OR g % 50 = 1 THEN NULL ELSE random() * 2 END,
       CASE WHEN g % 20 = 0 THEN 'blocked' WHEN g % 50 = 1 THEN 'invalid'
            WHEN g % 10 = 3 THEN 'found' WHEN g % 7 = 0 THEN 'rejected' ELSE 'accepted' END,
       CASE WHEN g % 20 = 0 THEN 'org_not_verified' WHEN g % 50 = 1 THEN 'invalid_invoice' ELSE NULL END,
       NOT (g % 20 = 0 OR g % 50 = 1)
FROM generate_series(1, :rows) AS g
"""


def _one_invoice(engine: Engine) -> int:
    with session_scope(engine) as session:
        session.add(
            VendorOrg(id=1, name="Duka", kra_pin="P051234567A", tax_status=TaxStatus.VERIFIED, device_serial="D")
        )
        session.flush()
        invoice = Invoice(
            org_id=1,
            trader_invoice_no="INV-1",
            receipt_type="S",
            payment_type="01",
            issued_at=datetime(2026, 1, 1, tzinfo=UTC),
            issue_date=date(2026, 1, 1),
        )
        session.add(invoice)
        session.flush()
        return invoice.id


def _unseal(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(delete(attempt_rollups))
        connection.execute(update(attempt_rollup_seal).values(sealed_before=None))


def _scrape(engine: Engine) -> bytes:
    return generate_latest(build_registry(engine))


def _series(exposition: bytes) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    families = text_string_to_metric_families(exposition.decode())
    return {(s.name, frozenset(s.labels.items())): round(s.value, 3) for f in families for s in f.samples}


def _median_ms(action: Callable[[], object], repeat: int) -> float:
    action()  # warm: plans and caches, as a long-running scraper has them
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-day", type=int, default=8_000, help="attempt rows per day")
    parser.add_argument("--days", type=int, nargs="+", default=[90, 365, 1095], help="days of history, per step")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with fresh_database(POSTGRES_ADMIN_URL) as (_, url):
        engine = make_engine(url)
        upgrade_to_head(engine)
        invoice_id = _one_invoice(engine)
        spacing = 86_400 / args.per_day
        print(f"{args.per_day:,} attempt rows per day; median of {args.repeat} scrapes; PostgreSQL")
        print(f"{'days':>5} {'rows':>10} {'all rows':>10} {'sealed':>10} {'ratio':>7} {'first seal':>11}")
        inserted = 0
        for days in sorted(args.days):
            total = days * args.per_day
            with engine.begin() as connection:
                parameters = {"invoice_id": invoice_id, "rows": total - inserted, "offset": inserted}
                connection.execute(text(APPEND_ROWS), {**parameters, "spacing": spacing})
                connection.execute(text("ANALYZE submission_attempts"))
            inserted = total
            _unseal(engine)
            baseline = _median_ms(lambda: _scrape(engine), args.repeat)
            expected = _series(_scrape(engine))
            started = time.perf_counter()
            seal_closed_days(engine)
            first_seal = (time.perf_counter() - started) * 1000
            if _series(_scrape(engine)) != expected:
                raise AssertionError("sealing changed the exposed series")
            sealed = _median_ms(lambda: _scrape(engine), args.repeat)
            ratio = baseline / sealed
            print(f"{days:>5} {total:>10,} {baseline:>8.0f}ms {sealed:>8.1f}ms {ratio:>6.0f}x {first_seal:>9.0f}ms")
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
