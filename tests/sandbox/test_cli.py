"""The sandbox as operators start it: the CLI parser, and a real process stopped with SIGTERM."""

from __future__ import annotations

import argparse
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from etims_pipeline.cli import sandbox as sandbox_cli
from etims_pipeline.sandbox.config import Device
from tests.sandbox.sandbox_support import BHF, SERIAL, TIN

READY = re.compile(r"eTIMS sandbox listening on (http://\S+/etims-api/)")


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="etims-pipeline")
    sandbox_cli.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["sandbox", *argv])


def test_cli_options() -> None:
    args = _parse("--port", "0", "--tax-rate", "E=10", "--tax-rate", "B=16", "--device", f"{TIN}:{BHF}:{SERIAL}")
    assert args.handler is sandbox_cli.run
    assert args.port == 0
    assert dict(args.tax_rate) == {"E": Decimal(10), "B": Decimal(16)}
    assert args.device == [Device(TIN, BHF, SERIAL)]
    assert (args.host, args.latency_ms, args.fault_rate) == ("127.0.0.1", 0, 0.0)


@pytest.mark.parametrize("argv", [["--tax-rate", "F=1"], ["--tax-rate", "E=x"], ["--device", "P1:00"]])
def test_cli_refuses_bad_values(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        _parse(*argv)


@pytest.fixture
def sandbox_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    env = {**os.environ, "ETIMS_SANDBOX_SECRET": "test-secret"}
    command = [sys.executable, "-m", "etims_pipeline.sandbox", "--port", "0", "--tax-rate", "E=10"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + 30
    line = ""
    while not line and time.monotonic() < deadline and selector.select(timeout=deadline - time.monotonic()):
        line = process.stdout.readline()
    match = READY.search(line)
    try:
        assert match, f"no ready line from the sandbox, got {line!r}"
        yield process, match.group(1)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_sandbox_process_serves_and_stops_on_sigterm(
    sandbox_process: tuple[subprocess.Popen[str], str],
) -> None:
    process, base_url = sandbox_process
    with httpx.Client(base_url=base_url, timeout=5) as client:
        answer = client.post("selectInitOsdcInfo", json={"tin": TIN, "bhfId": BHF, "dvcSrlNo": SERIAL}).json()
        assert answer["resultCd"] == "000"
        headers = {"tin": TIN, "bhfId": BHF, "cmcKey": answer["data"]["info"]["cmcKey"]}
        body = {"tin": TIN, "bhfId": BHF, "lastReqDt": "20200101000000"}
        codes = client.post("selectCodeList", json=body, headers=headers).json()
    rates = {item["cd"]: item["userDfnCd1"] for item in codes["data"]["clsList"][0]["dtlList"]}
    assert rates["E"] == "10"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
