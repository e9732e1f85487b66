"""Reading a JSON Lines file as numbered objects, in batches, with numbers kept as Decimal."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from etims_pipeline.loading.fields import ROW_NOT_JSON, ROW_NOT_OBJECT, BadRow
from etims_pipeline.loading.report import LoadReport

BATCH_SIZE = 500

# One numbered line: its object, or why it is not one.
SourceRow = tuple[int, dict[str, Any] | BadRow]
RowT = TypeVar("RowT")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_line(raw: bytes) -> dict[str, Any] | BadRow:
    try:
        value = json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        return BadRow(ROW_NOT_JSON, "the line is not UTF-8 text")
    except json.JSONDecodeError as exc:
        return BadRow(ROW_NOT_JSON, f"the line is not valid JSON: {exc.msg} at column {exc.colno}")
    except ValueError as exc:
        return BadRow(ROW_NOT_JSON, f"the line is not valid JSON: {exc}")
    if not isinstance(value, dict):
        return BadRow(ROW_NOT_OBJECT, "each line must be one JSON object {...}")
    return value


def read_batches(path: Path, size: int = BATCH_SIZE) -> Iterator[list[SourceRow]]:
    """Numbered rows of `path` (blank lines skipped), `size` at a time. Raises OSError if unreadable."""
    batch: list[SourceRow] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            batch.append((number, parse_line(raw)))
            if len(batch) >= size:
                yield batch
                batch = []
    if batch:
        yield batch


def parse_batch(
    batch: list[SourceRow], parse: Callable[[dict[str, Any]], RowT], report: LoadReport
) -> list[tuple[int, RowT]]:
    """The batch's rows that parse, with their line numbers; the others go to `report` as rejected."""
    parsed: list[tuple[int, RowT]] = []
    for line, value in batch:
        try:
            if isinstance(value, BadRow):
                raise value
            parsed.append((line, parse(value)))
        except BadRow as bad:
            report.reject(line, bad.code, bad.message)
    return parsed
