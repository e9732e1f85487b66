"""A whole Nairobi day of demo data, materialized against the sandbox running as its own process.

Runs once on SQLite and once on PostgreSQL: loads the deterministic demo set, materializes one partition,
then proves every invoice ended where it should and that eTIMS's own ledger agrees with the store.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select

from etims_pipeline.loading.demo import generate_demo_data
from etims_pipeline.loading.invoices import load_invoices_file
from etims_pipeline.loading.orgs import load_orgs_file
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.models import Invoice, SubmissionAttempt
from tests.dagster_support import MaterializeFn

DAY = date(2026, 11, 23)


def _ledger(base_url: str) -> dict[str, object]:
    document: dict[str, object] = httpx.get(base_url.split("/etims-api/", maxsplit=1)[0] + "/_sandbox/ledger").json()
    return document


def test_a_demo_day_goes_through_end_to_end(
    engine: Engine, database_url: str, sandbox_process: str, materialize_day: MaterializeFn, tmp_path: Path
) -> None:
    files = generate_demo_data(tmp_path, end_date=DAY, orgs=12, days=3)
    assert not load_orgs_file(engine, files.orgs_path).errors
    assert not load_invoices_file(engine, files.invoices_path).errors

    result = materialize_day(sandbox_process, database_url, partition_key="2026-11-23")
    assert result.success

    with session_scope(engine) as session:
        statuses = dict(
            session.execute(
                select(Invoice.status, func.count()).where(Invoice.issue_date == DAY).group_by(Invoice.status)
            )
            .tuples()
            .all()
        )
        accepted = {
            (inv.org_id, inv.invoice_no): inv.trader_invoice_no
            for inv in session.scalars(select(Invoice).where(Invoice.status == "accepted"))
        }
        other_days = session.scalar(select(func.count()).where(Invoice.issue_date != DAY, Invoice.status != "pending"))
        accepting = session.scalar(select(func.count()).where(SubmissionAttempt.outcome.in_(["accepted", "found"])))
    assert statuses.get("accepted", 0) > 0
    assert statuses.get("held", 0) > 0  # the demo has orgs that are not VERIFIED or have bad PINs
    assert statuses.get("invalid", 0) > 0  # and malformed invoices
    assert set(statuses) <= {"accepted", "held", "invalid", "pending"}
    assert other_days == 0
    assert accepting == len(accepted)
    ledger = _ledger(sandbox_process)
    assert ledger["count"] == len(accepted)
    assert {s["trdInvcNo"] for s in ledger["sales"]} == set(accepted.values())  # type: ignore[attr-defined]
    assert {c["calls"] for c in ledger["save_calls"]} == {1}  # type: ignore[attr-defined]
