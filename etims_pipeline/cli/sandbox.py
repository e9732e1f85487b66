"""`etims-pipeline sandbox`: run the local eTIMS (OSCU) sandbox server until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import os
from decimal import Decimal, InvalidOperation
from typing import Any

from etims_pipeline.etims.codes import TAX_BANDS
from etims_pipeline.sandbox import SandboxConfig, build_server, serve_forever
from etims_pipeline.sandbox.config import DEFAULT_SECRET, DEFAULT_TAX_RATES, SECRET_ENV_VAR, Device


def _tax_rate(text: str) -> tuple[str, Decimal]:
    band, _, rate_text = text.partition("=")
    try:
        rate = Decimal(rate_text)
    except InvalidOperation:
        rate = Decimal(-1)
    if band not in TAX_BANDS or not Decimal(0) <= rate <= Decimal(100):
        raise argparse.ArgumentTypeError(f"{text!r}: use BAND=RATE with BAND in A-E and RATE 0-100, e.g. E=8")
    return band, rate


def _device(text: str) -> Device:
    parts = text.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise argparse.ArgumentTypeError(f"{text!r}: use TIN:BHF:SERIAL, e.g. P051365947M:00:dvcv1130")
    return Device(*parts)


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r}: a probability between 0 and 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089, help="0 picks a free port (default 8089)")
    parser.add_argument("--latency-ms", type=int, default=0, help="delay before every eTIMS answer")
    parser.add_argument(
        "--fault-rate", type=_probability, default=0.0, help="share of saves that fail (http_500 or hang)"
    )
    parser.add_argument("--seed", type=int, help="seed of the random faults, for repeatable demos")
    parser.add_argument(
        "--fault-hang-seconds", type=float, default=5.0, help="how long a random hang_after_commit lasts"
    )
    parser.add_argument(
        "--tax-rate",
        type=_tax_rate,
        action="append",
        default=[],
        metavar="BAND=RATE",
        help="override a band's rate in the code list (repeatable), e.g. --tax-rate E=10",
    )
    parser.add_argument(
        "--device",
        type=_device,
        action="append",
        default=[],
        metavar="TIN:BHF:SERIAL",
        help="a device installed at start-up, so keys issued before a restart keep working (repeatable)",
    )
    parser.add_argument("--secret", help=f"key-derivation secret (default ${SECRET_ENV_VAR}, else a dev value)")
    parser.add_argument("--verbose", action="store_true", help="log every request (never the keys)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    config = SandboxConfig(
        secret=args.secret or os.environ.get(SECRET_ENV_VAR) or DEFAULT_SECRET,
        tax_rates={**DEFAULT_TAX_RATES, **dict(args.tax_rate)},
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        fault_seed=args.seed,
        fault_hang_seconds=args.fault_hang_seconds,
        devices=tuple(args.device),
    )
    server = build_server(args.host, args.port, config)
    print(f"eTIMS sandbox listening on {server.base_url}", flush=True)
    serve_forever(server)
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("sandbox", help="run the local eTIMS (OSCU) sandbox server")
    add_arguments(parser)
