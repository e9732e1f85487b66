"""`etims-pipeline dev` end to end: the real sandbox, webserver and daemon come up, and SIGTERM leaves nothing."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import socket
import sys
import urllib.request
from pathlib import Path

import pytest

from etims_pipeline.cli.dev import absolute_sqlite_url
from etims_pipeline.devstack.supervisor import ChildSpec, Supervisor

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def descendants(root_pid: int) -> set[int]:
    """Every process below `root_pid`, from the parent links in /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it exited while we looked
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    pending = [root_pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.add(child)
            pending.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_relative_sqlite_url_becomes_absolute(tmp_path: Path) -> None:
    assert absolute_sqlite_url("sqlite:///var/etims.sqlite3", tmp_path) == f"sqlite:///{tmp_path}/var/etims.sqlite3"
    assert absolute_sqlite_url("sqlite:////srv/e.db", tmp_path) == "sqlite:////srv/e.db"
    assert absolute_sqlite_url("postgresql+psycopg2://u:p@h/db", tmp_path) == "postgresql+psycopg2://u:p@h/db"


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="walks the process tree in /proc")
def test_dev_stack_starts_and_stops_cleanly(tmp_path: Path) -> None:
    (tmp_path / "deploy/local").mkdir(parents=True)
    shutil.copyfile(REPO / "workspace.yaml", tmp_path / "workspace.yaml")
    shutil.copyfile(REPO / "deploy/local/dagster.yaml", tmp_path / "deploy/local/dagster.yaml")
    ui_port, sandbox_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ETIMS_", "DAGSTER_"))}
    argv = [sys.executable, "-m", "etims_pipeline.cli.main", "dev", "--port", str(ui_port)]
    spec = ChildSpec(
        "dev",
        [*argv, "--sandbox-port", str(sandbox_port)],
        env=env,
        cwd=tmp_path,
        ready_line="Dagster UI: ",
        ready_timeout=240,
    )
    stack: set[int] = set()
    with Supervisor(echo=io.StringIO(), stop_timeout=30) as supervisor:
        try:
            (dev,) = supervisor.start(spec)
            stack = descendants(dev.pid)
            with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/server_info", timeout=10) as response:
                assert response.status == 200
            assert f"eTIMS sandbox: http://127.0.0.1:{sandbox_port}/etims-api/" in dev.output_tail
            assert (tmp_path / "var/dagster_home/dagster.yaml").is_file()
            assert len(stack) >= 3  # sandbox, webserver, daemon, and by now some of their code servers

            os.kill(dev.pid, signal.SIGTERM)  # only the dev command: it must stop its children itself
            assert supervisor.wait_for_exit(timeout=60) is dev
            assert dev.returncode == 0, dev.output_tail
            assert [pid for pid in stack if alive(pid)] == []
        finally:
            for pid in stack:  # never leave a stack behind, even when an assertion failed
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
