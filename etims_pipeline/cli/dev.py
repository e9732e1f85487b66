"""`etims-pipeline dev`: the whole local stack behind `make run`, in the foreground until Ctrl-C or SIGTERM.

Run from the repository root. It keeps all state under var/: points DAGSTER_HOME at var/dagster_home with
deploy/local/dagster.yaml (SQLite), migrates the operational database, seeds demo data into an empty one,
then starts the eTIMS sandbox, dagster-webserver and dagster-daemon under a supervisor
(etims_pipeline.devstack.supervisor). If any of them dies, the rest are stopped and the command fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from etims_pipeline.devstack.supervisor import ChildSpec, StartupError, Supervisor
from etims_pipeline.settings import database_url
from etims_pipeline.store.db import make_engine, redacted_url, session_scope
from etims_pipeline.store.migrate import upgrade_to_head
from etims_pipeline.store.models import VendorOrg

WORKSPACE = Path("workspace.yaml")
LOCAL_INSTANCE_CONFIG = Path("deploy/local/dagster.yaml")
VAR_DIR = Path("var")
SANDBOX_READY_LINE = "eTIMS sandbox listening on"
SANDBOX_READY_TIMEOUT = 60.0
# A cold start on two cores imports dagster and the code location several times over.
WEBSERVER_READY_TIMEOUT = 180.0


def _dev(args: argparse.Namespace) -> int:
    root = Path.cwd()
    missing = [path for path in (WORKSPACE, LOCAL_INSTANCE_CONFIG) if not (root / path).is_file()]
    if missing:
        print(f"dev: {', '.join(map(str, missing))} not found; run from the repository root", file=sys.stderr)
        return 2
    # From here on Ctrl-C and SIGTERM both raise KeyboardInterrupt, even when started in the background.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        env = _prepare_state(root, args)
    except KeyboardInterrupt:
        return 0
    supervisor = Supervisor()
    code = 1
    try:
        code = _supervise(supervisor, env, args)
    except KeyboardInterrupt:
        code = 0
    finally:
        # A second Ctrl-C must not cut the shutdown short and orphan the children.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("dev: stopping the stack", flush=True)
        if not supervisor.stop():
            code = 1
    return code


def _prepare_state(root: Path, args: argparse.Namespace) -> dict[str, str]:
    """Create var/, the Dagster instance and the operational database; return the children's environment."""
    dagster_home = root / VAR_DIR / "dagster_home"
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(root / LOCAL_INSTANCE_CONFIG, dagster_home / "dagster.yaml")

    url = absolute_sqlite_url(database_url(), root)
    engine = make_engine(url)
    try:
        upgrade_to_head(engine)
        print(f"dev: schema up to date on {redacted_url(url)}", flush=True)
        with session_scope(engine) as session:
            org_count = session.scalar(select(func.count()).select_from(VendorOrg)) or 0
    finally:
        engine.dispose()
    if org_count == 0 and not args.no_demo:
        _seed_demo_data(root / VAR_DIR / "demo", url)

    env = dict(os.environ)
    env.setdefault("DEBUG", "true")
    env.update(
        DAGSTER_HOME=str(dagster_home),
        ETIMS_DATABASE_URL=url,
        ETIMS_BASE_URL=f"http://127.0.0.1:{args.sandbox_port}/etims-api/",
        PYTHONUNBUFFERED="1",
    )
    return env


def _seed_demo_data(out_dir: Path, url: str) -> None:
    from etims_pipeline.cli.main import main

    print(f"dev: the database has no orgs; loading demo data from {out_dir}", flush=True)
    code = main(["demo-data", "--out", str(out_dir), "--load", "--database-url", url])
    if code != 0:
        raise SystemExit(f"dev: demo-data failed with exit code {code}")


def _supervise(supervisor: Supervisor, env: dict[str, str], args: argparse.Namespace) -> int:
    """Start the three children and block until one dies (returns 1) or Ctrl-C/SIGTERM arrives."""
    workspace = ["-w", str(WORKSPACE)]
    ui_probe_host = "127.0.0.1" if args.host in {"0.0.0.0", "::"} else args.host
    sandbox = ChildSpec(
        "sandbox",
        [sys.executable, "-m", "etims_pipeline.sandbox", "--host", "127.0.0.1", "--port", str(args.sandbox_port)],
        env=env,
        ready_line=SANDBOX_READY_LINE,
        ready_timeout=SANDBOX_READY_TIMEOUT,
    )
    webserver = ChildSpec(
        "webserver",
        [_tool("dagster-webserver"), "-h", args.host, "-p", str(args.port), *workspace],
        env=env,
        ready_url=f"http://{ui_probe_host}:{args.port}/server_info",
        ready_timeout=WEBSERVER_READY_TIMEOUT,
    )
    daemon = ChildSpec("daemon", [_tool("dagster-daemon"), "run", *workspace], env=env)
    try:
        supervisor.start(sandbox)
        supervisor.start(webserver, daemon)
    except StartupError as error:
        print(f"dev: {error}", file=sys.stderr, flush=True)
        return 1
    print(f"eTIMS sandbox: {env['ETIMS_BASE_URL']}", flush=True)
    print(f"Dagster UI: http://{args.host}:{args.port}", flush=True)
    print("dev: Ctrl-C stops everything", flush=True)
    dead = supervisor.wait_for_exit()
    if dead is not None:
        print(f"dev: {dead.spec.name} exited with code {dead.returncode}; stopping the rest", file=sys.stderr)
    return 1


def _tool(name: str) -> str:
    """A console script of this environment (the venv's bin/ first), so the children match this install."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"dev: {name} not found; install the project with `pip install -e '.[dev]'`")
    return found


def absolute_sqlite_url(url: str, root: Path) -> str:
    """Children run elsewhere (run workers, code servers): a relative SQLite path must not depend on cwd."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return url
    path = Path(parsed.database)
    if path.is_absolute():
        return url
    return parsed.set(database=str(root / path)).render_as_string(hide_password=False)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "dev", help="run the local stack (eTIMS sandbox, Dagster webserver and daemon) until Ctrl-C"
    )
    parser.add_argument("--host", default="127.0.0.1", help="Dagster UI host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=3000, help="Dagster UI port (default 3000)")
    parser.add_argument("--sandbox-port", type=int, default=8089, help="eTIMS sandbox port (default 8089)")
    parser.add_argument("--no-demo", action="store_true", help="do not seed demo data into an empty database")
    parser.set_defaults(handler=_dev)
