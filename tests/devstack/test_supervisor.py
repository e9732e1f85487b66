"""The process supervisor behind `etims-pipeline dev`: ready detection, group shutdown, death detection."""

from __future__ import annotations

import io
import os
import signal
import socket
import sys
from collections.abc import Iterator

import pytest

from etims_pipeline.devstack.supervisor import ChildProcess, ChildSpec, StartupError, Supervisor

# Each script starts a grandchild, reports its pid, then says it is ready and sleeps.
POLITE = """
import subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(f"grandchild {grandchild.pid}", flush=True)
print("polite ready", flush=True)
time.sleep(600)
"""

# Ignores SIGTERM, and so does its grandchild (SIG_IGN survives exec): only SIGKILL stops this group.
STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(f"grandchild {grandchild.pid}", flush=True)
print("stubborn ready", flush=True)
time.sleep(600)
"""


def python(script: str) -> list[str]:
    return [sys.executable, "-u", "-c", script]


def grandchild_pid(child: ChildProcess) -> int:
    line = next(line for line in child.output_tail if line.startswith("grandchild "))
    return int(line.split()[1])


def assert_gone(pid: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def supervisor() -> Iterator[Supervisor]:
    with Supervisor(echo=io.StringIO(), stop_timeout=2.0) as sup:
        yield sup


def test_ready_lines_then_stop_leaves_no_process(supervisor: Supervisor) -> None:
    polite, stubborn = supervisor.start(
        ChildSpec("polite", python(POLITE), ready_line="polite ready", ready_timeout=30),
        ChildSpec("stubborn", python(STUBBORN), ready_line="stubborn ready", ready_timeout=30),
    )
    pids = [polite.pid, stubborn.pid, grandchild_pid(polite), grandchild_pid(stubborn)]
    for pid in pids:
        os.kill(pid, 0)  # all four are running
    assert supervisor.first_exited() is None

    assert supervisor.stop() is True

    for pid in pids:
        assert_gone(pid)
    assert polite.returncode == -signal.SIGTERM
    assert stubborn.returncode == -signal.SIGKILL


def test_ready_url(supervisor: Supervisor) -> None:
    port = free_port()
    (server,) = supervisor.start(
        ChildSpec(
            "http",
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
            ready_url=f"http://127.0.0.1:{port}/",
            ready_timeout=30,
        )
    )
    assert server.returncode is None


def test_dying_child_is_detected(supervisor: Supervisor) -> None:
    _, dying = supervisor.start(
        ChildSpec("polite", python(POLITE), ready_line="polite ready", ready_timeout=30),
        ChildSpec("dying", python("print('ready', flush=True); raise SystemExit(3)"), ready_line="ready"),
    )
    assert supervisor.wait_for_exit(timeout=30) is dying
    assert dying.returncode == 3


def test_ready_timeout_names_the_command(supervisor: Supervisor) -> None:
    spec = ChildSpec("silent", python("import time; time.sleep(600)"), ready_line="never", ready_timeout=0.5)
    with pytest.raises(StartupError, match=r"silent was not ready after 0\.5s") as error:
        supervisor.start(spec)
    assert spec.command in str(error.value)


def test_exit_before_ready_reports_code_and_output(supervisor: Supervisor) -> None:
    script = "print('boom: no config', flush=True); raise SystemExit(2)"
    spec = ChildSpec("broken", python(script), ready_line="never")
    with pytest.raises(StartupError, match="broken exited with code 2 before it was ready") as error:
        supervisor.start(spec)
    assert spec.command in str(error.value)
    assert "boom: no config" in str(error.value)


def test_child_gets_default_sigint_even_when_parent_ignores_it(supervisor: Supervisor) -> None:
    """A backgrounded shell hands SIG_IGN down; children must still honour SIGINT/SIGTERM (notes §6)."""
    probe = "import signal, time; print('ignored' if signal.getsignal(signal.SIGINT) == signal.SIG_IGN else 'ok'); "
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        (child,) = supervisor.start(
            ChildSpec("probe", python(probe + "time.sleep(600)"), ready_line="", ready_timeout=30)
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    assert child.output_tail == ["ok"]
