"""Entry point of the `etims-pipeline` console script.

Each subcommand module exposes `register(subparsers)`; it adds its parser and sets `handler`, a function
taking the parsed namespace and returning the process exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

SUBCOMMAND_MODULES = (
    "etims_pipeline.cli.database",
    "etims_pipeline.cli.loading",
    "etims_pipeline.cli.sandbox",
    "etims_pipeline.cli.metrics",
    "etims_pipeline.cli.dev",
    "etims_pipeline.cli.kpis",
    "etims_pipeline.cli.replay",
    "etims_pipeline.cli.serve",
    "etims_pipeline.cli.secrets",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="etims-pipeline",
        description="KRA eTIMS invoice submission and vendor KPIs: data loading, the local sandbox, replay, "
        "KPI backfills, health service and the local Dagster stack.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
