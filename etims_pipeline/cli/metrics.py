"""`etims-pipeline metrics`: print the Prometheus exposition of the operational database's attempt log."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError

from etims_pipeline.observability.metrics import render_metrics
from etims_pipeline.settings import database_url
from etims_pipeline.store.db import make_engine, redacted_url
from etims_pipeline.store.models import SubmissionAttempt


def _metrics(args: argparse.Namespace) -> int:
    url = args.database_url or database_url()
    engine = make_engine(url)
    try:
        if not inspect(engine).has_table(SubmissionAttempt.__tablename__):
            print(
                f"SCHEMA_MISSING: {redacted_url(url)} has no {SubmissionAttempt.__tablename__} table; "
                "run `etims-pipeline migrate` against it first",
                file=sys.stderr,
            )
            return 2
        sys.stdout.write(render_metrics(engine).decode())
    except OperationalError as exc:
        print(f"DATABASE_UNREACHABLE: {redacted_url(url)}: {exc.orig}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("metrics", help="print the Prometheus metrics derived from the attempt log")
    parser.add_argument("--database-url", help="defaults to $ETIMS_DATABASE_URL, else a local SQLite file")
    parser.set_defaults(handler=_metrics)
