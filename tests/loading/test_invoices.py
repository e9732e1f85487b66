"""`load invoices`: good rows load, bad rows are reported by line, reloads and conflicts, credit notes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from etims_pipeline.loading.invoices import load_invoices_file
from etims_pipeline.loading.orgs import load_orgs_file
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.models import Invoice, InvoiceLine
from tests.loading.conftest import WriteRows, credit_note_row, invoice_row, line_row, org_row


@pytest.fixture
def org_42(engine: Engine, write_rows: WriteRows) -> None:
    load_orgs_file(engine, write_rows("orgs.jsonl", [org_row(42), org_row(43)]))


def _counts(engine: Engine) -> tuple[int, int]:
    with session_scope(engine) as session:
        invoices = session.scalar(select(func.count()).select_from(Invoice))
        lines = session.scalar(select(func.count()).select_from(InvoiceLine))
    return invoices or 0, lines or 0


def _invoice(engine: Engine, number: str, org_id: int = 42) -> Invoice:
    with session_scope(engine) as session:
        invoice = session.scalars(
            select(Invoice).where(Invoice.org_id == org_id, Invoice.trader_invoice_no == number)
        ).one()
        _ = invoice.lines
        return invoice


@pytest.mark.usefixtures("org_42")
def test_invoice_loads_with_exact_decimals_nairobi_day_and_utc(engine: Engine, write_rows: WriteRows) -> None:
    late_evening = invoice_row("INV-0001", issued_at="2026-11-23T23:30:00+03:00", total_amount=Decimal("2576.59"))
    report = load_invoices_file(engine, write_rows("invoices.jsonl", [late_evening]))

    invoice = _invoice(engine, "INV-0001")
    assert (report.inserted, report.rejected) == (1, 0)
    assert invoice.status == "pending"
    assert invoice.issue_date == date(2026, 11, 23)
    assert invoice.issued_at == datetime(2026, 11, 23, 20, 30, tzinfo=UTC)
    assert invoice.declared_total == Decimal("2576.59")
    assert [line.seq for line in invoice.lines] == [1, 2]
    assert invoice.lines[0].unit_price == Decimal("1234.56")
    assert invoice.lines[0].discount_rate == Decimal("10")


@pytest.mark.usefixtures("org_42")
def test_semantic_problems_load_for_validation_to_catch(engine: Engine, write_rows: WriteRows) -> None:
    rows = [
        invoice_row("INV-1", customer_pin="B12345"),
        invoice_row("INV-2", lines=[line_row(tax_band="F"), line_row(quantity=-1)]),
        invoice_row("INV-3", total_amount=1, payment_type="99", lines=[]),
    ]
    report = load_invoices_file(engine, write_rows("invoices.jsonl", rows))

    assert (report.inserted, report.rejected) == (3, 0)
    assert _invoice(engine, "INV-2").lines[0].tax_band == "F"


@pytest.mark.usefixtures("org_42")
def test_bad_invoice_rows_are_reported_by_line_and_good_rows_load(engine: Engine, write_rows: WriteRows) -> None:
    missing_issued_at = invoice_row("INV-3")
    del missing_issued_at["issued_at"]
    rows: list[dict[str, object] | str] = [
        invoice_row("INV-1"),
        "not json",
        missing_issued_at,
        invoice_row("INV-4", issued_at="2026-11-23T14:05:00"),
        invoice_row("INV-5", org_id=999),
        invoice_row("CRN-6", receipt_type="R", refund_reason="06"),
        credit_note_row("CRN-7", original="INV-404"),
        invoice_row("INV-1", payment_type="06"),
        invoice_row("INV-9", lines=[line_row(unit_price=Decimal("1.234"))]),
        invoice_row("INV-10", lines=[line_row(quantity="2")]),
        invoice_row("INV-11", issued_at="yesterday"),
        invoice_row("INV-12"),
    ]
    report = load_invoices_file(engine, write_rows("invoices.jsonl", rows))

    assert report.inserted == 2
    assert [(error.line, error.code) for error in report.errors] == [
        (2, "ROW_NOT_JSON"),
        (3, "ROW_MISSING_FIELD"),
        (4, "ROW_NAIVE_DATETIME"),
        (5, "ROW_UNKNOWN_ORG"),
        (6, "ROW_MISSING_FIELD"),
        (7, "ROW_ORIGINAL_NOT_FOUND"),
        (8, "ROW_DUPLICATE"),
        (9, "ROW_BAD_NUMBER"),
        (10, "ROW_BAD_TYPE"),
        (11, "ROW_BAD_DATETIME"),
    ]
    assert str(report.errors[1]) == 'line 3: ROW_MISSING_FIELD: "issued_at" is required'
    assert '"lines[1].quantity" must be a number, got string' in str(report.errors[8])


@pytest.mark.usefixtures("org_42")
def test_reload_is_a_no_op(engine: Engine, write_rows: WriteRows) -> None:
    rows = [
        invoice_row("INV-1"),
        invoice_row("INV-2"),
        credit_note_row("CRN-3", original="INV-1"),
        invoice_row("INV-1"),
    ]
    path = write_rows("invoices.jsonl", rows)

    first = load_invoices_file(engine, path)
    counts = _counts(engine)
    second = load_invoices_file(engine, path)

    assert (first.inserted, first.unchanged, first.rejected) == (3, 1, 0)
    assert (second.inserted, second.unchanged, second.rejected) == (0, 4, 0)
    assert _counts(engine) == counts == (3, 6)


@pytest.mark.usefixtures("org_42")
def test_changed_invoice_is_a_conflict(engine: Engine, write_rows: WriteRows) -> None:
    load_invoices_file(engine, write_rows("first.jsonl", [invoice_row("INV-1")]))

    changed = invoice_row("INV-1", lines=[line_row(unit_price=Decimal("1234.57"))])
    report = load_invoices_file(engine, write_rows("changed.jsonl", [changed]))

    assert [(error.line, error.code) for error in report.errors] == [(1, "ROW_CONFLICT")]
    assert "lines" in report.errors[0].message
    assert _invoice(engine, "INV-1").lines[0].unit_price == Decimal("1234.56")


@pytest.mark.usefixtures("org_42")
def test_credit_note_resolves_its_original_in_the_store_and_only_within_its_org(
    engine: Engine, write_rows: WriteRows
) -> None:
    load_invoices_file(engine, write_rows("sales.jsonl", [invoice_row("INV-1")]))

    rows = [credit_note_row("CRN-1", original="INV-1"), credit_note_row("CRN-1", original="INV-1", org_id=43)]
    report = load_invoices_file(engine, write_rows("credits.jsonl", rows))

    assert report.inserted == 1
    assert [(error.line, error.code) for error in report.errors] == [(2, "ROW_ORIGINAL_NOT_FOUND")]
    credit = _invoice(engine, "CRN-1")
    assert (credit.receipt_type, credit.original_trader_invoice_no, credit.refund_reason) == ("R", "INV-1", "06")


@pytest.mark.usefixtures("org_42")
def test_credit_note_needs_its_original_earlier_in_the_file(engine: Engine, write_rows: WriteRows) -> None:
    rows = [
        credit_note_row("CRN-1", original="INV-2"),
        invoice_row("INV-2"),
        credit_note_row("CRN-3", original="INV-2"),
    ]
    report = load_invoices_file(engine, write_rows("invoices.jsonl", rows))

    assert report.inserted == 2
    assert [(error.line, error.code) for error in report.errors] == [(1, "ROW_ORIGINAL_NOT_FOUND")]


def test_unreadable_file_raises(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(OSError, match="No such file"):
        load_invoices_file(engine, tmp_path / "missing.jsonl")
