"""The `load` and `demo-data` subcommands: summaries, bad rows, exit codes, and no secrets printed."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from etims_pipeline.cli.loading import register
from tests.loading.conftest import WriteRows, invoice_row, org_row


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="etims-pipeline")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def test_load_exit_codes(
    database_url: str, write_rows: WriteRows, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orgs = write_rows("orgs.jsonl", [org_row(42, cmc_key="very-secret-key")])
    good = write_rows("good.jsonl", [invoice_row("INV-1")])
    mixed = write_rows("mixed.jsonl", [invoice_row("INV-2"), invoice_row("INV-3", org_id=7)])

    assert _run("load", "orgs", str(orgs), "--database-url", database_url) == 0
    assert _run("load", "invoices", str(good), "--database-url", database_url) == 0
    assert _run("load", "invoices", str(mixed), "--database-url", database_url) == 1
    assert _run("load", "invoices", str(tmp_path / "missing.jsonl"), "--database-url", database_url) == 2

    out, err = capsys.readouterr()
    assert "orgs: loaded 1, unchanged 0, rejected 0" in out
    assert "invoices: loaded 1, unchanged 0, rejected 1" in out
    assert "line 2: ROW_UNKNOWN_ORG: org 7 is not loaded" in err
    assert "cannot read" in err
    assert "very-secret-key" not in out + err


def test_database_failure_prints_a_redacted_url(write_rows: WriteRows, capsys: pytest.CaptureFixture[str]) -> None:
    orgs = write_rows("orgs.jsonl", [org_row(42)])
    url = "postgresql+psycopg2://loader:hunter2@127.0.0.1:1/nowhere"

    assert _run("load", "orgs", str(orgs), "--database-url", url) == 2

    err = capsys.readouterr().err
    assert "hunter2" not in err
    assert "***" in err


def test_demo_data_writes_and_loads(database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "demo"
    argv = ["demo-data", "--out", str(out_dir), "--orgs", "3", "--days", "1", "--end-date", "2026-11-23"]

    assert _run(*argv, "--load", "--database-url", database_url) == 0
    assert (out_dir / "orgs.jsonl").exists()
    assert "orgs: loaded 3, unchanged 0, rejected 0" in capsys.readouterr().out


def test_demo_data_rejects_a_bad_end_date(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _run("demo-data", "--end-date", "23/11/2026")
    assert "not a date like 2026-11-23" in capsys.readouterr().err
