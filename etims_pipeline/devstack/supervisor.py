"""Start child processes, wait until they are ready, notice when one dies, stop them leaving nothing behind.

Each child runs in its own session, so in its own process group: dagster-webserver and dagster-daemon spawn
code servers and run workers of their own, and stopping only the direct child would orphan them. Stopping
sends SIGTERM to the whole group, waits, then sends SIGKILL to whatever is left of it.

Each child also execs through a tiny shim that restores the default SIGINT disposition. A process started
in the background by a non-interactive shell inherits SIGINT=SIG_IGN, and dagster maps SIGTERM onto its
SIGINT handler, so without the shim a dagster child would ignore both signals (dagster-notes §6).

On Linux the supervising process registers as a child subreaper: grandchildren orphaned when their group
leader dies are re-parented to it rather than to PID 1, so it can reap them and prove the group is empty.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, TextIO

DEFAULT_STOP_TIMEOUT = 15.0
KILL_GRACE = 5.0
_POLL_INTERVAL = 0.1
_URL_PROBE_TIMEOUT = 2.0
_TAIL_LINES = 20
_PR_SET_CHILD_SUBREAPER = 36

# Runs first in every child: restore SIGINT, then replace itself with the real command (same pid).
_EXEC_SHIM = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])"
)


class StartupError(RuntimeError):
    """A child did not become ready: it exited first, or the ready wait timed out."""


@dataclass(frozen=True)
class ChildSpec:
    """What to run and how to tell that it is ready.

    `ready_line` is a substring awaited in the child's combined stdout and stderr; `ready_url` is an HTTP URL
    that must answer with a 2xx status (checked after the line, when both are given). With neither, the
    child counts as ready as soon as it has started.
    """

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    ready_line: str | None = None
    ready_url: str | None = None
    ready_timeout: float = 60.0

    @property
    def command(self) -> str:
        return shlex.join(self.argv)


class ChildProcess:
    """One running child: the leader of its own process group, its output echoed line by line."""

    def __init__(self, spec: ChildSpec, echo: Callable[[str], None], on_exit: Callable[[], None]) -> None:
        self.spec = spec
        self._echo = echo
        self._on_exit = on_exit
        self._ready_line_seen = threading.Event()
        self._exited = threading.Event()
        self._tail: deque[str] = deque(maxlen=_TAIL_LINES)
        self._proc: subprocess.Popen[str] | None = None
        self._pump: threading.Thread | None = None
        self._group_empty = False

    def start(self) -> None:
        """Launch the command in a new session; output and exit are watched by two daemon threads."""
        proc = subprocess.Popen(
            [sys.executable, "-c", _EXEC_SHIM, *self.spec.argv],
            env=dict(self.spec.env) if self.spec.env is not None else None,
            cwd=self.spec.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
            start_new_session=True,
        )
        self._proc = proc
        if proc.stdout is not None:
            self._pump = threading.Thread(
                target=self._pump_output, args=(proc.stdout,), name=f"{self.spec.name}-output", daemon=True
            )
            self._pump.start()
        threading.Thread(target=self._watch_exit, args=(proc,), name=f"{self.spec.name}-exit", daemon=True).start()

    @property
    def pid(self) -> int:
        """The child's pid, which is also its process group id."""
        if self._proc is None:
            raise RuntimeError(f"{self.spec.name} has not been started")
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        """The exit code once the child has exited (negative: killed by that signal), else None."""
        if self._proc is None or not self._exited.is_set():
            return None
        return self._proc.returncode

    @property
    def output_tail(self) -> list[str]:
        """The last lines the child printed, for error messages."""
        return list(self._tail)

    def wait_ready(self) -> None:
        """Block until the ready line and/or ready URL is seen; raise StartupError on exit or timeout."""
        deadline = time.monotonic() + self.spec.ready_timeout
        if self.spec.ready_line is not None:
            awaited = f"the line {self.spec.ready_line!r}"
            while not self._ready_line_seen.wait(_POLL_INTERVAL):
                self._fail_if_hopeless(deadline, awaited)
        if self.spec.ready_url is not None:
            awaited = f"{self.spec.ready_url} to answer"
            while not _url_answers(self.spec.ready_url):
                self._fail_if_hopeless(deadline, awaited)
                self._exited.wait(_POLL_INTERVAL)

    def signal_group(self, signum: signal.Signals) -> None:
        """Send a signal to every process in the child's group, unless the group is known to be empty."""
        if self._proc is None or self._group_empty:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signum)

    def wait_stopped(self, deadline: float) -> bool:
        """Wait until the child has exited and its group is empty; False if not so by the deadline."""
        while not self._check_group_empty():
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_INTERVAL)
        return True

    def close(self) -> None:
        """Release the output pipe once the group is gone (the pump thread ends at end of file)."""
        if self._pump is not None:
            self._pump.join(timeout=1.0)
        if self._proc is not None and self._proc.stdout is not None and self._group_empty:
            self._proc.stdout.close()

    def _fail_if_hopeless(self, deadline: float, awaited: str) -> None:
        if self._exited.is_set():
            if self._pump is not None:
                self._pump.join(timeout=1.0)  # collect the last lines it printed
            raise StartupError(
                f"{self.spec.name} exited with code {self.returncode} before it was ready (waiting for "
                f"{awaited}); command: {self.spec.command}{self._tail_text()}"
            )
        if time.monotonic() >= deadline:
            raise StartupError(
                f"{self.spec.name} was not ready after {self.spec.ready_timeout:g}s (waiting for {awaited}); "
                f"command: {self.spec.command}{self._tail_text()}"
            )

    def _tail_text(self) -> str:
        if not self._tail:
            return "; it printed nothing"
        return "; last output:\n  " + "\n  ".join(self._tail)

    def _check_group_empty(self) -> bool:
        """Reap exited group members re-parented to us, then ask whether any process is left in the group."""
        if self._group_empty or self._proc is None:
            return True
        if not self._exited.is_set():
            return False
        pgid = self._proc.pid
        # The leader is reaped by the exit watcher first, so this only collects orphaned grandchildren.
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-pgid, os.WNOHANG)[0] != 0:
                pass
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            self._group_empty = True
        return self._group_empty

    def _pump_output(self, stream: IO[str]) -> None:
        for raw in stream:
            line = raw.rstrip("\n")
            self._tail.append(line)
            if self.spec.ready_line is not None and self.spec.ready_line in line:
                self._ready_line_seen.set()
            self._echo(f"[{self.spec.name}] {line}")

    def _watch_exit(self, proc: subprocess.Popen[str]) -> None:
        proc.wait()
        self._exited.set()
        self._on_exit()


class Supervisor:
    """A set of children started together and stopped together; use as a context manager.

    `stop()` (also run on leaving the `with` block) sends SIGTERM to every child's process group, waits up
    to `stop_timeout` seconds for all of them, then sends SIGKILL to any group that still has processes.
    """

    def __init__(self, *, echo: TextIO | None = sys.stdout, stop_timeout: float = DEFAULT_STOP_TIMEOUT) -> None:
        _become_subreaper()
        self._stream = echo
        self._stop_timeout = stop_timeout
        self._children: list[ChildProcess] = []
        self._any_exited = threading.Event()
        self._echo_lock = threading.Lock()

    @property
    def children(self) -> tuple[ChildProcess, ...]:
        return tuple(self._children)

    def start(self, *specs: ChildSpec) -> list[ChildProcess]:
        """Launch all `specs` at once, then wait until each is ready (StartupError if one is not)."""
        started = []
        for spec in specs:
            child = ChildProcess(spec, self._echo, self._any_exited.set)
            self._children.append(child)
            child.start()
            started.append(child)
        for child in started:
            child.wait_ready()
        return started

    def wait_for_exit(self, timeout: float | None = None) -> ChildProcess | None:
        """Block until any child exits and return it; None if `timeout` seconds pass first."""
        self._any_exited.wait(timeout)
        return self.first_exited()

    def first_exited(self) -> ChildProcess | None:
        """A child that has exited, if any."""
        return next((child for child in self._children if child.returncode is not None), None)

    def stop(self) -> bool:
        """Stop every child's process group; True if no process of any group is left."""
        running = list(reversed(self._children))
        for child in running:
            child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + self._stop_timeout
        lagging = [child for child in running if not child.wait_stopped(deadline)]
        for child in lagging:
            self._echo(f"[supervisor] {child.spec.name} still running after {self._stop_timeout:g}s: SIGKILL")
            child.signal_group(signal.SIGKILL)
        deadline = time.monotonic() + KILL_GRACE
        left = [child for child in lagging if not child.wait_stopped(deadline)]
        for child in running:
            child.close()
        for child in left:
            self._echo(f"[supervisor] process group {child.pid} ({child.spec.name}) could not be emptied")
        return not left

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _echo(self, line: str) -> None:
        if self._stream is None:
            return
        with self._echo_lock:
            print(line, file=self._stream, flush=True)


def _url_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=_URL_PROBE_TIMEOUT) as response:
            status: int = response.status
    except (urllib.error.URLError, OSError):
        return False
    return 200 <= status < 300


def _become_subreaper() -> None:
    """On Linux, have orphaned descendants re-parented to this process so they can be reaped."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
