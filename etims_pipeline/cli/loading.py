"""`etims-pipeline load orgs|invoices FILE` and `etims-pipeline demo-data`.

Exit codes of `load`: 0 every row loaded or unchanged; 1 some rows rejected (the good rows are loaded);
2 the file could not be read or the database failed (nothing more is loaded after that point).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from etims_pipeline.loading.demo import DEFAULT_DAYS, DEFAULT_ORGS, DEFAULT_SEED, generate_demo_data
from etims_pipeline.loading.invoices import load_invoices_file
from etims_pipeline.loading.orgs import load_orgs_file
from etims_pipeline.loading.report import LoadReport
from etims_pipeline.nairobi_time import nairobi_date, now_utc, parse_partition_key
from etims_pipeline.settings import database_url
from etims_pipeline.store.db import make_engine, redacted_url
from etims_pipeline.store.migrate import upgrade_to_head

EXIT_OK = 0
EXIT_ROWS_REJECTED = 1
EXIT_UNREADABLE = 2

Loader = Callable[[Engine, Path], LoadReport]


def _print_report(report: LoadReport) -> None:
    for error in report.errors:
        print(error, file=sys.stderr)
    print(report.summary())


def _run_loads(url: str, loads: list[tuple[Loader, Path]]) -> int:
    """Migrate the database, then load each file in order; stop at the first unreadable file."""
    engine = make_engine(url)
    try:
        upgrade_to_head(engine)
        rejected = False
        for loader, path in loads:
            report = loader(engine, path)
            _print_report(report)
            rejected = rejected or report.rejected > 0
    except OSError as exc:
        print(f"error: cannot read {exc.filename or path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    except SQLAlchemyError as exc:
        # The exception text may carry statement parameters (cmc_key); name only the failure and the URL.
        cause = type(exc.orig or exc).__name__ if hasattr(exc, "orig") else type(exc).__name__
        print(f"error: database {redacted_url(url)} failed ({cause}); fix it and load again", file=sys.stderr)
        return EXIT_UNREADABLE
    finally:
        engine.dispose()
    return EXIT_ROWS_REJECTED if rejected else EXIT_OK


def _load(args: argparse.Namespace) -> int:
    loader: Loader = args.loader
    return _run_loads(args.database_url or database_url(), [(loader, Path(args.file))])


def _end_date(text: str) -> date:
    try:
        return parse_partition_key(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-23") from None


def _demo_data(args: argparse.Namespace) -> int:
    end_date = args.end_date or nairobi_date(now_utc())
    files = generate_demo_data(Path(args.out), end_date, orgs=args.orgs, days=args.days, seed=args.seed)
    print(f"wrote {files.org_count} orgs to {files.orgs_path}")
    print(f"wrote {files.invoice_count} invoices to {files.invoices_path}")
    if not args.load:
        return EXIT_OK
    loads: list[tuple[Loader, Path]] = [
        (load_orgs_file, files.orgs_path),
        (load_invoices_file, files.invoices_path),
    ]
    return _run_loads(args.database_url or database_url(), loads)


def _add_database_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", help="defaults to $ETIMS_DATABASE_URL, else a local SQLite file")


def register(subparsers: Any) -> None:
    load = subparsers.add_parser("load", help="load orgs or invoices from a JSON Lines file (docs/data-format.md)")
    kinds = load.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind, loader in (("orgs", load_orgs_file), ("invoices", load_invoices_file)):
        parser = kinds.add_parser(kind, help=f"load {kind} from FILE (JSON Lines)")
        parser.add_argument("file", metavar="FILE")
        _add_database_url(parser)
        parser.set_defaults(handler=_load, loader=loader)

    demo = subparsers.add_parser("demo-data", help="write a deterministic demo data set (orgs.jsonl, invoices.jsonl)")
    demo.add_argument("--out", default="demo-data", help="output directory (default: demo-data)")
    demo.add_argument("--orgs", type=int, default=DEFAULT_ORGS, help=f"number of orgs (default {DEFAULT_ORGS})")
    demo.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"number of days (default {DEFAULT_DAYS})")
    demo.add_argument("--end-date", type=_end_date, help="last day, YYYY-MM-DD (default: today in Nairobi)")
    demo.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    demo.add_argument("--load", action="store_true", help="also load the files into the database")
    _add_database_url(demo)
    demo.set_defaults(handler=_demo_data)
