"""Every shell command in docs/runbook.md, run as written against the real stack, so the runbook cannot drift.

The stack is production-shaped (PostgreSQL storage, sandbox, dagster-webserver, dagster-daemon, and the
health service), loaded with three days of demo data ending today (Nairobi). Each command of the runbook's
`bash` blocks runs in bash with `pipefail`, in the order the runbook gives. Only the deployment-specific
parts are filled in: `<ORG_ID>` is a demo org that fails the guard (PENDING) and is fixed by the runbook's
own `load orgs fixed-orgs.jsonl`; the health service's port replaces 8080; `run.log` is the stderr of the
in-process replay (an operator's `2> run.log`). Then each answer is checked against what the runbook says.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from dagster import DagsterRunStatus
from sqlalchemy import select, text

from etims_pipeline.cli.serve import READY_LINE
from etims_pipeline.devstack.supervisor import ChildSpec
from etims_pipeline.nairobi_time import nairobi_date, now_utc
from etims_pipeline.store.db import make_engine, session_scope
from etims_pipeline.store.encrypted import PREFIX
from etims_pipeline.store.models import Invoice, InvoiceStatus
from tests.e2e.stack import REPO, DagsterStack, free_port, wait_until

RUNBOOK = REPO / "docs" / "runbook.md"
FIXED_PIN = "P051234567Q"
COMMAND_TIMEOUT = 600


def runbook_blocks(language: str) -> list[str]:
    """The bodies of the runbook's fenced blocks in `language`, indentation (list items) removed."""
    pattern = rf"^([ \t]*)```{language}\n(.*?)^[ \t]*```"
    blocks = re.findall(pattern, RUNBOOK.read_text(), re.MULTILINE | re.DOTALL)
    return ["\n".join(line.removeprefix(indent) for line in body.splitlines()) for indent, body in blocks]


def runbook_commands() -> list[str]:
    return [line.strip() for block in runbook_blocks("bash") for line in block.splitlines() if line.strip()]


def _pending_org(orgs_path: Path) -> dict[str, Any]:
    rows = [json.loads(line) for line in orgs_path.read_text().splitlines()]
    org: dict[str, Any] = next(row for row in rows if row["tax_status"] == "PENDING")
    return org


def _prepare(stack: DagsterStack, workdir: Path) -> int:
    """Demo data in the operational database; `fixed-orgs.jsonl` fixing its PENDING org. Returns that org's id."""
    files = stack.load_demo(workdir, nairobi_date(now_utc()), days=3)
    org = _pending_org(files.orgs_path)
    fixed = {**org, "kra_pin": FIXED_PIN, "tax_status": "VERIFIED"}
    (workdir / "fixed-orgs.jsonl").write_text(json.dumps(fixed) + "\n")
    org_id: int = org["id"]
    return org_id


def _start_health_service(stack: DagsterStack) -> int:
    port = free_port()
    argv = [str(Path(sys.executable).parent / "etims-pipeline"), "serve", "--port", str(port)]
    stack.supervisor.start(ChildSpec("health", argv, env=stack.env, ready_line=READY_LINE, ready_timeout=60))
    return port


def _run(command: str, workdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def _output_of(outputs: dict[str, str], prefix: str) -> str:
    matches = [output for command, output in outputs.items() if command.startswith(prefix)]
    assert len(matches) == 1, f"the runbook should have exactly one command starting {prefix!r}"
    return matches[0]


def _same_shape(documented: dict[str, Any], answered: dict[str, Any]) -> None:
    """The documented `/readyz` example and a live answer have the same fields, block by block."""
    assert answered.keys() == documented.keys()
    for name, block in documented.items():
        if isinstance(block, dict):
            assert answered[name].keys() == block.keys(), name
            if "heartbeats" in block:  # the example lists some daemons only, as the runbook says
                assert block["heartbeats"].keys() <= answered[name]["heartbeats"].keys()


@pytest.mark.e2e
@pytest.mark.postgres
def test_every_runbook_command_runs_as_written(e2e_stack: DagsterStack, tmp_path: Path) -> None:
    commands = runbook_commands()
    assert len(commands) >= 10, commands  # the runbook's command blocks were found
    workdir = tmp_path / "operator"
    workdir.mkdir()
    org_id = _prepare(e2e_stack, workdir)
    port = _start_health_service(e2e_stack)
    env = {**e2e_stack.env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    wait_until(lambda: _run(f"curl -sf http://127.0.0.1:{port}/readyz", workdir, env).returncode == 0, 120, "ready")

    outputs: dict[str, str] = {}
    for written in commands:
        command = written.replace("<ORG_ID>", str(org_id)).replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        result = _run(command, workdir, env)
        assert result.returncode == 0, f"{written}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        outputs[written] = result.stdout
        if command.startswith("etims-pipeline submit-invoices") and "--launch" not in command:
            (workdir / "run.log").write_text(result.stderr)

    assert "loaded 1 (1 updated)" in _output_of(outputs, "etims-pipeline load orgs")
    assert "launched run" in _output_of(outputs, "etims-pipeline submit-invoices --org <ORG_ID> --since 7 --launch")
    exposition = _output_of(outputs, "etims-pipeline metrics")
    accepted = re.search(r'^invoices_submitted_total\{status="accepted"\} (\S+)$', exposition, re.MULTILINE)
    assert accepted and float(accepted.group(1)) > 0
    assert "invoices_submitted_total" in _output_of(outputs, "curl -s http://127.0.0.1:8080/metrics")
    metric_lines = _output_of(outputs, """jq -cR 'fromjson? | select(.logger == "metrics")'""").splitlines()
    assert metric_lines and {json.loads(line)["event"] for line in metric_lines} == {"metric"}
    assert "partitions 90/90 materialized" in _output_of(outputs, "etims-pipeline backfill-kpis")
    assert json.loads(_output_of(outputs, "curl -s http://127.0.0.1:8080/healthz")) == {"status": "ok"}
    ready = json.loads(_output_of(outputs, "curl -s http://127.0.0.1:8080/readyz"))
    assert ready["status"] == "ok", json.dumps(ready)
    _same_shape(json.loads(runbook_blocks("json")[0]), ready)

    runs = e2e_stack.wait_for_runs_to_finish(1, timeout=300)
    assert {run.status for run in runs} == {DagsterRunStatus.SUCCESS}
    engine = make_engine(e2e_stack.operational_url)
    with session_scope(engine) as session:
        statuses = set(session.scalars(select(Invoice.status).where(Invoice.org_id == org_id)))
    with engine.connect() as connection:
        stored_key = connection.execute(text("SELECT cmc_key FROM vendor_orgs WHERE id = :id"), {"id": org_id})
        assert stored_key.scalar_one().startswith(PREFIX)  # the device key eTIMS issued, encrypted at rest
    engine.dispose()
    assert statuses == {InvoiceStatus.ACCEPTED.value}  # the fixed org's three demo days, all within the 7
