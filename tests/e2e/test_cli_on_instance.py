"""The operator commands that act on a running Dagster instance, against the real stack.

`backfill-kpis` launches a backfill the daemon runs and reports its progress; `submit-invoices --launch`
runs the replay on the webserver's instance and prints the per-day outcome.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from etims_pipeline.nairobi_time import NAIROBI, nairobi_date, now_utc
from etims_pipeline.store.db import make_engine, session_scope
from etims_pipeline.store.kpi_models import VendorKpiDaily
from etims_pipeline.store.migrate import upgrade_to_head
from etims_pipeline.store.models import Invoice, VendorOrg
from tests.e2e.stack import DagsterStack
from tests.factories import make_invoice, make_org


def _cli(stack: DagsterStack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "etims_pipeline.cli.main", *args],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _launch_replay(stack: DagsterStack, org_id: int) -> subprocess.CompletedProcess[str]:
    return _cli(
        stack,
        "submit-invoices",
        "--org",
        str(org_id),
        "--since",
        "3",
        "--launch",
        "--webserver-url",
        stack.webserver_url,
    )


@pytest.mark.e2e
@pytest.mark.postgres
def test_backfill_kpis_and_a_launched_replay_on_the_instance(e2e_stack: DagsterStack) -> None:
    engine = make_engine(e2e_stack.operational_url)
    upgrade_to_head(engine)
    today = nairobi_date(now_utc())
    make_org(engine, 1)
    make_org(engine, 2, tax_status="PENDING")
    for back in range(3):
        day = today - timedelta(days=back)
        for org in (1, 2):
            make_invoice(engine, org, datetime(day.year, day.month, day.day, 9, tzinfo=NAIROBI))

    backfill = _cli(e2e_stack, "backfill-kpis", "--start", "2026-01-01", "--end", "2026-01-03", "--poll-seconds", "1")
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    with session_scope(engine) as session:
        kpi_days = session.scalars(select(VendorKpiDaily.kpi_date).distinct()).all()
    assert sorted(kpi_days) == [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)]

    held = _launch_replay(e2e_stack, 2)
    assert held.returncode == 1
    assert "ORG_NOT_VERIFIED" in held.stdout + held.stderr

    with session_scope(engine) as session:
        session.execute(update(VendorOrg).where(VendorOrg.id == 2).values(tax_status="VERIFIED"))
    replay = _launch_replay(e2e_stack, 2)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    with session_scope(engine) as session:
        accepted = session.scalar(select(func.count()).where(Invoice.org_id == 2, Invoice.status == "accepted"))
    assert accepted == 3
    engine.dispose()
