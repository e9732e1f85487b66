"""`load invoices`: JSON Lines of sales and credit notes into the store, idempotently, batch by batch.

Invoices are immutable once loaded and keyed by (org_id, trader_invoice_no): the same row again is
unchanged; a different row under a stored key is a ROW_CONFLICT. A credit note's original must be one of
the org's invoices already in the store or loaded earlier in the same file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from etims_pipeline.loading.fields import BadRow
from etims_pipeline.loading.invoice_store import (
    InvoiceKey,
    existing_keys,
    insert_invoices,
    known_org_ids,
    stored_invoices,
)
from etims_pipeline.loading.jsonl import SourceRow, parse_batch, read_batches
from etims_pipeline.loading.report import LoadReport
from etims_pipeline.loading.rows import InvoiceRow, parse_invoice
from etims_pipeline.store.db import session_scope

ROW_UNKNOWN_ORG = "ROW_UNKNOWN_ORG"
ROW_ORIGINAL_NOT_FOUND = "ROW_ORIGINAL_NOT_FOUND"
ROW_DUPLICATE = "ROW_DUPLICATE"
ROW_CONFLICT = "ROW_CONFLICT"


def _differences(loaded: InvoiceRow, incoming: InvoiceRow) -> str:
    names = [item.name for item in fields(InvoiceRow) if getattr(loaded, item.name) != getattr(incoming, item.name)]
    return ", ".join(names)


@dataclass
class _FileState:
    """What earlier lines of the file loaded: key → (line number, content hash)."""

    seen: dict[InvoiceKey, tuple[int, int]] = field(default_factory=dict)


@dataclass
class _BatchContext:
    org_ids: set[int]
    stored: dict[InvoiceKey, InvoiceRow]
    stored_originals: set[InvoiceKey]


def _context(session: Session, rows: list[InvoiceRow]) -> _BatchContext:
    keys = {row.key for row in rows}
    originals = {key for row in rows if (key := row.original_key) is not None}
    return _BatchContext(
        org_ids=known_org_ids(session, {row.org_id for row in rows}),
        stored=stored_invoices(session, keys),
        stored_originals=existing_keys(session, originals) if originals else set(),
    )


def _check(row: InvoiceRow, context: _BatchContext, state: _FileState, line: int) -> bool:
    """True when the row is new and should be inserted; False when it is unchanged. Raises BadRow."""
    if row.org_id not in context.org_ids:
        raise BadRow(ROW_UNKNOWN_ORG, f"org {row.org_id} is not loaded; load it with `load orgs` first")
    earlier = state.seen.get(row.key)
    if earlier is not None:
        if earlier[1] != hash(row):
            raise BadRow(
                ROW_DUPLICATE,
                f"invoice {row.trader_invoice_no!r} of org {row.org_id} is also on line {earlier[0]} with "
                "different content; trader invoice numbers are unique per org",
            )
        return False
    stored = context.stored.get(row.key)
    if stored is not None:
        if stored != row:
            raise BadRow(
                ROW_CONFLICT,
                f"invoice {row.trader_invoice_no!r} of org {row.org_id} is already loaded with different "
                f"{_differences(stored, row)}; loaded invoices are immutable, issue a credit note instead",
            )
        return False
    original = row.original_key
    if original is not None and original not in state.seen and original not in context.stored_originals:
        raise BadRow(
            ROW_ORIGINAL_NOT_FOUND,
            f"credit note {row.trader_invoice_no!r} credits {row.original_trader_invoice_no!r}, which is not "
            f"an invoice of org {row.org_id} in the store or earlier in this file",
        )
    return True


def _load_batch(engine: Engine, batch: list[SourceRow], state: _FileState, report: LoadReport) -> None:
    parsed = parse_batch(batch, parse_invoice, report)
    if not parsed:
        return
    with session_scope(engine) as session:
        context = _context(session, [row for _, row in parsed])
        new_rows: list[InvoiceRow] = []
        for line, row in parsed:
            try:
                is_new = _check(row, context, state, line)
            except BadRow as bad:
                report.reject(line, bad.code, bad.message)
                continue
            if is_new:
                new_rows.append(row)
                state.seen[row.key] = (line, hash(row))
            else:
                report.unchanged += 1
                state.seen.setdefault(row.key, (line, hash(row)))
        report.inserted += insert_invoices(session, new_rows)


def load_invoices_file(engine: Engine, path: Path) -> LoadReport:
    """Load `path` (JSON Lines of invoices) into the store; bad rows are reported and skipped.

    Raises OSError when the file cannot be read.
    """
    report = LoadReport("invoices")
    state = _FileState()
    for batch in read_batches(path):
        _load_batch(engine, batch, state, report)
    return report.finish()
