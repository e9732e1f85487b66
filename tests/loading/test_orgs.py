"""`load orgs`: upsert by id, operator fixes applied, cmc_key kept, bad rows reported by line."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from etims_pipeline.loading.orgs import load_orgs_file
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.models import VendorOrg
from tests.loading.conftest import Row, WriteRows, org_row


def _org(engine: Engine, org_id: int) -> VendorOrg:
    with session_scope(engine) as session:
        org = session.get(VendorOrg, org_id)
        assert org is not None
        return org


def test_orgs_load_and_reload_is_a_no_op(engine: Engine, write_rows: WriteRows) -> None:
    path = write_rows("orgs.jsonl", [org_row(1), "", org_row(2, kra_pin=None, tax_status="PENDING")])

    first = load_orgs_file(engine, path)
    second = load_orgs_file(engine, path)

    assert (first.inserted, first.unchanged, first.rejected) == (2, 0, 0)
    assert (second.loaded, second.unchanged, second.rejected) == (0, 2, 0)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(VendorOrg)) == 2
    assert _org(engine, 1).verified_at is not None
    assert _org(engine, 2).verified_at is None
    assert _org(engine, 2).bhf_id == "00"


def test_org_fix_updates_pin_and_sets_verified_at(engine: Engine, write_rows: WriteRows) -> None:
    load_orgs_file(engine, write_rows("before.jsonl", [org_row(7, kra_pin="X123", tax_status="PENDING")]))
    before = _org(engine, 7)

    report = load_orgs_file(engine, write_rows("fix.jsonl", [org_row(7, kra_pin="P051365947M")]))

    after = _org(engine, 7)
    assert (report.updated, report.unchanged) == (1, 0)
    assert (after.kra_pin, after.tax_status) == ("P051365947M", "VERIFIED")
    assert after.verified_at is not None
    assert after.updated_at > before.updated_at


def test_reload_without_cmc_key_keeps_the_stored_key(engine: Engine, write_rows: WriteRows) -> None:
    load_orgs_file(engine, write_rows("with_key.jsonl", [org_row(3, cmc_key="secret-key")]))

    report = load_orgs_file(engine, write_rows("without_key.jsonl", [org_row(3, cmc_key=None)]))

    assert report.unchanged == 1
    assert _org(engine, 3).cmc_key == "secret-key"


def test_bad_org_rows_are_reported_by_line_and_good_rows_load(engine: Engine, write_rows: WriteRows) -> None:
    rows: list[Row | str] = [
        org_row(1),
        "{not json",
        "[1, 2]",
        {"name": "no id", "tax_status": "VERIFIED", "device_serial": "DVC-1"},
        org_row(4, id="4"),
        org_row(5, tax_status="ACTIVE"),
        org_row(6, bhf_id="0"),
        org_row(1, name="Another name"),
        org_row(8, name="x" * 201),
    ]
    report = load_orgs_file(engine, write_rows("orgs.jsonl", rows))

    assert report.inserted == 1
    assert [(error.line, error.code) for error in report.errors] == [
        (2, "ROW_NOT_JSON"),
        (3, "ROW_NOT_OBJECT"),
        (4, "ROW_MISSING_FIELD"),
        (5, "ROW_BAD_TYPE"),
        (6, "ROW_BAD_VALUE"),
        (7, "ROW_BAD_VALUE"),
        (8, "ROW_DUPLICATE"),
        (9, "ROW_TOO_LONG"),
    ]
    assert str(report.errors[2]) == 'line 4: ROW_MISSING_FIELD: "id" is required'
    assert "secret" not in repr(report)
