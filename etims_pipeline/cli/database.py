"""`etims-pipeline migrate`: bring the operational database (ETIMS_DATABASE_URL) to the newest schema."""

from __future__ import annotations

import argparse
from typing import Any

from etims_pipeline.settings import database_url
from etims_pipeline.store.db import make_engine, redacted_url
from etims_pipeline.store.migrate import upgrade_to_head


def _migrate(args: argparse.Namespace) -> int:
    url = args.database_url or database_url()
    engine = make_engine(url)
    try:
        upgrade_to_head(engine)
    finally:
        engine.dispose()
    print(f"schema up to date on {redacted_url(url)}")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("migrate", help="create or upgrade the operational database schema")
    parser.add_argument("--database-url", help="defaults to $ETIMS_DATABASE_URL, else a local SQLite file")
    parser.set_defaults(handler=_migrate)
