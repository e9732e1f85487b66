"""`demo-data`: deterministic files covering every status, bad PINs, bands A-E, credit notes, malformed rows."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from etims_pipeline.etims.pin import is_valid_kra_pin
from etims_pipeline.loading.demo import generate_demo_data
from etims_pipeline.loading.invoices import load_invoices_file
from etims_pipeline.loading.orgs import load_orgs_file

END = date(2026, 11, 23)


def _rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_same_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    first = generate_demo_data(tmp_path / "a", END, seed=7)
    second = generate_demo_data(tmp_path / "b", END, seed=7)
    other_seed = generate_demo_data(tmp_path / "c", END, seed=8)

    assert first.orgs_path.read_bytes() == second.orgs_path.read_bytes()
    assert first.invoices_path.read_bytes() == second.invoices_path.read_bytes()
    assert first.invoices_path.read_bytes() != other_seed.invoices_path.read_bytes()


def test_demo_data_covers_every_case(tmp_path: Path) -> None:
    files = generate_demo_data(tmp_path, END)
    orgs, invoices = _rows(files.orgs_path), _rows(files.invoices_path)

    statuses = Counter(org["tax_status"] for org in orgs)
    assert set(statuses) == {"VERIFIED", "PENDING", "UNVERIFIED", "SUSPENDED"}
    assert statuses["VERIFIED"] > len(orgs) / 2
    verified_pins = [org["kra_pin"] for org in orgs if org["tax_status"] == "VERIFIED"]
    assert None in verified_pins
    assert any(isinstance(pin, str) and not is_valid_kra_pin(pin) for pin in verified_pins)
    assert all("cmc_key" not in org for org in orgs)

    lines = [line for invoice in invoices for line in invoice["lines"]]  # type: ignore[attr-defined]
    bands = Counter(line["tax_band"] for line in lines)
    assert set(bands) == {"A", "B", "C", "D", "E", "F"}
    assert bands.most_common(1)[0][0] == "B"
    assert any(line["discount_rate"] > 0 for line in lines)
    assert any(len(invoice["lines"]) > 1 for invoice in invoices)  # type: ignore[arg-type]
    assert {invoice["issued_at"][-6:] for invoice in invoices} == {"+03:00"}  # type: ignore[index]
    assert all("08:00" <= invoice["issued_at"][11:16] <= "18:00" for invoice in invoices)  # type: ignore[index]
    credit_notes = [invoice for invoice in invoices if invoice["receipt_type"] == "R"]
    assert credit_notes
    assert all(note["refund_reason"] and note["original_trader_invoice_no"] for note in credit_notes)
    assert any(invoice.get("customer_pin") == "B12345" for invoice in invoices)
    assert any("total_amount" in invoice for invoice in invoices)
    keys = [(invoice["org_id"], invoice["trader_invoice_no"]) for invoice in invoices]
    assert len(keys) == len(set(keys))


def test_demo_data_loads_cleanly(engine: Engine, tmp_path: Path) -> None:
    files = generate_demo_data(tmp_path, END, orgs=13, days=2)

    orgs = load_orgs_file(engine, files.orgs_path)
    invoices = load_invoices_file(engine, files.invoices_path)

    assert (orgs.inserted, orgs.rejected) == (13, 0)
    assert (invoices.inserted, invoices.rejected) == (files.invoice_count, 0)


def test_two_thousand_orgs_for_one_day(tmp_path: Path) -> None:
    files = generate_demo_data(tmp_path, END, orgs=2000, days=1)

    assert files.org_count == 2000
    assert files.invoice_count > 2000 * 3
