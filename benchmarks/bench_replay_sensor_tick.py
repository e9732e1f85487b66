"""Time one tick of the replay sensor at 2,000 orgs, all fixed at once (the worst tick: 200 run requests).

    python benchmarks/bench_replay_sensor_tick.py [--orgs 2000] [--database-url postgresql+psycopg2://...]

Without --database-url a temporary SQLite file is used; a PostgreSQL URL must name an empty database.
Prints the median and max of ten ticks evaluated from the same cursor. Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import datetime
from datetime import time as clock

from dagster import build_sensor_context, instance_for_test
from sqlalchemy import Engine, insert, update

from etims_pipeline.nairobi_time import NAIROBI, last_nairobi_days, now_utc
from etims_pipeline.resources.operational_db import OperationalDatabaseResource
from etims_pipeline.sensors.replay import replay_fixed_orgs
from etims_pipeline.store.db import make_engine
from etims_pipeline.store.migrate import upgrade_to_head
from etims_pipeline.store.models import Invoice, VendorOrg


def seed(engine: Engine, orgs: int) -> None:
    """`orgs` unverified orgs with one held invoice each, then one UPDATE that fixes them all."""
    day = last_nairobi_days(2, now_utc())[0]
    issued = datetime.combine(day, clock(12), NAIROBI)
    ids = range(1, orgs + 1)
    with engine.begin() as connection:
        connection.execute(
            insert(VendorOrg),
            [
                {"id": n, "name": f"V{n}", "kra_pin": f"P{n:09d}K", "tax_status": "PENDING", "device_serial": f"D{n}"}
                for n in ids
            ],
        )
        connection.execute(
            insert(Invoice),
            [
                {
                    "org_id": n,
                    "trader_invoice_no": f"B{n}",
                    "receipt_type": "S",
                    "payment_type": "01",
                    "issued_at": issued,
                    "issue_date": day,
                    "status": "held",
                }
                for n in ids
            ],
        )
        connection.execute(update(VendorOrg).values(tax_status="VERIFIED"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=2000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    os.environ["ETIMS_ENABLED"] = "true"
    with tempfile.TemporaryDirectory() as scratch, instance_for_test() as instance:
        url = args.database_url or f"sqlite:///{scratch}/bench.sqlite3"
        engine = make_engine(url)
        upgrade_to_head(engine)
        seed(engine, args.orgs)
        resources = {"operational_db": OperationalDatabaseResource(url=url)}
        timings = []
        for _ in range(10):
            context = build_sensor_context(instance=instance, cursor=None, resources=resources)
            started = time.perf_counter()
            result = replay_fixed_orgs(context)
            timings.append(time.perf_counter() - started)
        engine.dispose()
    requested = len(result.run_requests or [])  # type: ignore[union-attr]
    print(
        f"{args.orgs} orgs fixed, {requested} run requests per tick on {url.split(':', 1)[0]}: "
        f"median {statistics.median(timings) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
