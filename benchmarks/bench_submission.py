"""Submission throughput: orgs in flight at once vs one at a time, against the sandbox as its own process.

The sandbox answers every call after a fixed delay (`--latency-ms`, default 20 ms, a congested eTIMS is
slower), so the run is dominated by waiting on eTIMS, as in production. The same fresh dataset is
submitted once per setting of `max_in_flight`, in the same session; the figure that matters is the ratio
to the sequential baseline (max_in_flight=1), not the absolute seconds.

    .venv/bin/python -m benchmarks.bench_submission [--orgs 200] [--invoices 5] [--latency-ms 20]
        [--in-flight 1 4 8 16] [--database-url postgresql+psycopg2://postgres@127.0.0.1:5432/bench]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, insert, select, text

from etims_pipeline.etims.client import EtimsClient, make_http_client
from etims_pipeline.nairobi_time import NAIROBI, to_utc
from etims_pipeline.settings import FeatureFlags
from etims_pipeline.store.db import make_engine
from etims_pipeline.store.migrate import upgrade_to_head
from etims_pipeline.store.models import Invoice, InvoiceLine, VendorOrg
from etims_pipeline.submission.engine import EngineSettings, SubmissionEngine, SubmissionRequest
from etims_pipeline.submission.retry import RetryPolicy

DAY = date(2026, 11, 23)


def start_sandbox(latency_ms: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "etims_pipeline.sandbox", "--port", "0", "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    match = re.search(r"(http://\S+/etims-api/)", process.stdout.readline())
    if not match:
        process.kill()
        raise SystemExit("the sandbox did not start")
    return process, match.group(1)


def seed(engine: Engine, orgs: int, invoices: int, first_org: int) -> None:
    """Verified orgs with `invoices` two-line invoices each on DAY, inserted in bulk."""
    org_rows = [
        {
            "id": first_org + n,
            "name": f"Bench {n}",
            "kra_pin": f"P{first_org + n:09d}B",
            "tax_status": "VERIFIED",
            "bhf_id": "00",
            "device_serial": f"BENCH-{first_org + n}",
        }
        for n in range(orgs)
    ]
    with engine.begin() as conn:
        conn.execute(insert(VendorOrg), org_rows)
        invoice_rows = []
        for org in org_rows:
            for k in range(invoices):
                issued = datetime(2026, 11, 23, 8, 0, tzinfo=NAIROBI) + timedelta(minutes=7 * k)
                invoice_rows.append(
                    {
                        "org_id": org["id"],
                        "trader_invoice_no": f"B-{org['id']}-{k}",
                        "receipt_type": "S",
                        "payment_type": "01",
                        "issued_at": to_utc(issued),
                        "issue_date": DAY,
                        "customer_name": "Bench",
                    }
                )
        conn.execute(insert(Invoice), invoice_rows)
        ids = conn.execute(select(Invoice.id).where(Invoice.org_id >= first_org)).scalars().all()
        line = {
            "item_class_code": "5059690800",
            "item_name": "Bench item",
            "quantity": Decimal(2),
            "unit_price": Decimal("150.00"),
            "discount_rate": Decimal(0),
            "packaging_unit": "NT",
            "quantity_unit": "U",
        }
        conn.execute(
            insert(InvoiceLine),
            [
                {**line, "invoice_id": i, "seq": seq, "item_code": f"KE1NTXU000000{seq}", "tax_band": band}
                for i in ids
                for seq, band in ((1, "B"), (2, "E"))
            ],
        )


def submit_all(engine: Engine, base_url: str, in_flight: int, org_ids: tuple[int, ...]) -> tuple[float, int]:
    flags = FeatureFlags(debug=False, etims_enabled=True, kpis_enabled=False)
    settings = EngineSettings(max_in_flight=in_flight, retry=RetryPolicy(max_calls=5))
    with make_http_client(
        base_url, timeout_seconds=30, connect_timeout_seconds=5, max_connections=in_flight + 2
    ) as http:
        started = time.perf_counter()
        report = SubmissionEngine(engine, EtimsClient(http), flags, settings).submit(
            SubmissionRequest(DAY, DAY, f"bench-{in_flight}", org_ids)
        )
        elapsed = time.perf_counter() - started
    accepted = sum(1 for invoice in report.invoices if invoice.status == "accepted")
    return elapsed, accepted


def fresh_engine(url: str | None, workdir: Path) -> Engine:
    if url is None:
        return make_engine(f"sqlite:///{workdir / 'bench.sqlite3'}")
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_engine(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orgs", type=int, default=200)
    parser.add_argument("--invoices", type=int, default=5, help="invoices per org")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--in-flight", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--database-url", help="a PostgreSQL URL (the database is recreated); default SQLite")
    args = parser.parse_args()

    sandbox, base_url = start_sandbox(args.latency_ms)
    try:
        with tempfile.TemporaryDirectory() as workdir:
            engine = fresh_engine(args.database_url, Path(workdir))
            upgrade_to_head(engine)
            results: dict[int, float] = {}
            for round_no, in_flight in enumerate(args.in_flight):
                first = 1 + round_no * args.orgs  # a fresh set of orgs and devices per setting
                seed(engine, args.orgs, args.invoices, first)
                org_ids = tuple(range(first, first + args.orgs))
                elapsed, accepted = submit_all(engine, base_url, in_flight, org_ids)
                assert accepted == args.orgs * args.invoices, f"only {accepted} accepted"
                results[in_flight] = elapsed
                total = args.orgs * args.invoices
                print(
                    f"max_in_flight={in_flight:>3}: {total} invoices in {elapsed:6.2f} s "
                    f"= {total / elapsed:7.1f} invoices/s"
                )
            with engine.connect() as conn:
                assert conn.scalar(select(func.count()).select_from(Invoice).where(Invoice.status != "accepted")) == 0
            baseline = results[min(results)]
            for in_flight, elapsed in results.items():
                print(f"speed-up of max_in_flight={in_flight} over {min(results)}: {baseline / elapsed:.2f}x")
            engine.dispose()
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=15)


if __name__ == "__main__":
    main()
