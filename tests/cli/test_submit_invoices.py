"""`etims-pipeline submit-invoices`: the runbook's replay command, in-process against the sandbox."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import Engine, update

from etims_pipeline.cli.main import main
from etims_pipeline.nairobi_time import NAIROBI, last_nairobi_days, now_utc, partition_key
from etims_pipeline.sandbox.server import SandboxServer
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.models import Invoice
from tests.factories import line, make_invoice, make_org

FIRST_DAY, TODAY = last_nairobi_days(7, now_utc())
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture
def cli_env(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETIMS_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("ETIMS_ENABLED", "true")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # an ephemeral instance
    monkeypatch.delenv("ETIMS_DATABASE_URL", raising=False)


def _org_with_held_invoices(engine: Engine, org_id: int, tax_status: str) -> None:
    make_org(engine, org_id, tax_status=tax_status)
    for day in (YESTERDAY, YESTERDAY, TODAY):
        make_invoice(engine, org_id, datetime.combine(day, time(0, 0, 1), NAIROBI))
    make_invoice(engine, org_id, datetime.combine(TODAY, time(0, 0, 2), NAIROBI), lines=[line(tax_band="F")])
    with session_scope(engine) as session:  # as the guard left them before the org was fixed
        session.execute(update(Invoice).values(status="held", status_code="ORG_NOT_VERIFIED"))


def _submit(sqlite_url: str, *args: str) -> int:
    return main(["submit-invoices", *args, "--database-url", sqlite_url])


@pytest.mark.usefixtures("cli_env")
def test_success_resubmits_and_prints_the_per_day_table(
    sqlite_engine: Engine, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _org_with_held_invoices(sqlite_engine, 42, "VERIFIED")

    code = _submit(sqlite_url, "--org", "42", "--since", "7")

    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[-5:-1] == [
        f"org 42, {partition_key(FIRST_DAY)}..{partition_key(TODAY)}",
        "date         accepted  held  pending  invalid  rejected by reason",
        f"{partition_key(YESTERDAY)}          2     0        0        0  -",
        f"{partition_key(TODAY)}          1     0        0        1  -",
    ]
    assert out.splitlines()[-1].startswith("run ") and out.splitlines()[-1].endswith(" succeeded")


@pytest.mark.usefixtures("cli_env")
def test_an_org_still_unverified_exits_1_with_the_runbook_fix(
    sqlite_engine: Engine, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _org_with_held_invoices(sqlite_engine, 42, "PENDING")

    code = _submit(sqlite_url, "--org", "42")

    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.startswith("ORG_NOT_VERIFIED: org 42 cannot submit (tax_status=PENDING); ")
    assert "set a valid KRA PIN and tax_status=VERIFIED on the org" in captured.err
    assert f"{partition_key(YESTERDAY)}          0     2        0        0  -" in captured.out


@pytest.mark.usefixtures("cli_env")
def test_an_unknown_org_exits_2(sqlite_engine: Engine, sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _submit(sqlite_url, "--org", "999") == 2
    assert capsys.readouterr().err.startswith("unknown org 999")


@pytest.mark.usefixtures("cli_env")
def test_since_below_one_exits_2(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _submit(sqlite_url, "--org", "1", "--since", "0") == 2
    assert "--since must be at least 1" in capsys.readouterr().err


@pytest.mark.usefixtures("cli_env")
def test_etims_disabled_exits_1_with_the_runbook_message(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ETIMS_ENABLED", "false")
    assert _submit(sqlite_url, "--org", "1") == 1
    assert capsys.readouterr().err.strip() == "ETIMS disabled – enable ETIMS_ENABLED and retry"
