"""`etims-pipeline submit-invoices --org ORG_ID --since 7`: the runbook's manual replay of one org.

Resubmits the org's open, held and rejected-but-retryable invoices of the last N Nairobi days as one ranged
run of `submitted_invoices` (the same run the replay sensor requests). By default the run executes in this
process, on the instance of $DAGSTER_HOME when it is set (so it shows in the UI), else on an ephemeral
one; `--launch` submits it to a running webserver instead and waits for it. Then prints a per-day table.

Exit codes: 0 the org passes the guard and the run succeeded; 1 the org fails the guard (the message says
how to fix it), ETIMS is disabled, or the run failed; 2 unknown org or bad arguments.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import Engine

from etims_pipeline.nairobi_time import now_utc, partition_key
from etims_pipeline.resources.operational_db import shared_engine
from etims_pipeline.sensors.replay_run import REASON_MANUAL, SUBMIT_INVOICES_JOB, ReplayRun
from etims_pipeline.settings import FeatureFlags, database_url, etims_base_url, webserver_url
from etims_pipeline.store.db import session_scope
from etims_pipeline.submission import audit
from etims_pipeline.submission.guard import evaluate_guard
from etims_pipeline.submission.outbox import org_snapshot

LAUNCH_TIMEOUT_SECONDS = 1800
_FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


def _error(message: str, code: int) -> int:
    print(message, file=sys.stderr)
    return code


def _run_in_process(run: ReplayRun, url: str) -> tuple[str, bool]:
    from dagster import DagsterInstance, materialize

    from etims_pipeline.assets.submissions import submitted_invoices
    from etims_pipeline.resources.etims_api import EtimsApiResource
    from etims_pipeline.resources.feature_flags import FeatureFlagsResource
    from etims_pipeline.resources.operational_db import OperationalDatabaseResource

    # As definitions.py wires them, but read now: its module-level values were fixed when it was imported.
    resources = {
        "etims": EtimsApiResource(base_url=etims_base_url()),
        "operational_db": OperationalDatabaseResource(url=url),
        "feature_flags": FeatureFlagsResource(),
    }
    instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()
    with instance:
        result = materialize(
            [submitted_invoices],
            instance=instance,
            resources=resources,
            run_config=run.run_config(),
            tags=run.tags(),
            raise_on_error=False,
        )
    return result.run_id, result.success


def _launch(run: ReplayRun, webserver: str) -> tuple[str, bool]:
    from dagster_graphql import DagsterGraphQLClient

    address = urlparse(webserver)
    client = DagsterGraphQLClient(
        address.hostname or "127.0.0.1",
        port_number=address.port,
        use_https=address.scheme == "https",
        path_prefix=address.path.rstrip("/"),
    )
    run_id = client.submit_job_execution(SUBMIT_INVOICES_JOB, run_config=run.run_config(), tags=run.tags())
    print(f"launched run {run_id}: {webserver.rstrip('/')}/runs/{run_id}")
    deadline = time.monotonic() + LAUNCH_TIMEOUT_SECONDS
    status = str(client.get_run_status(run_id).value)
    while status not in _FINISHED and time.monotonic() < deadline:
        time.sleep(1)  # polling a remote run; nothing to wait on but its status
        status = str(client.get_run_status(run_id).value)
    return run_id, status == "SUCCESS"


def _print_days(engine: Engine, run: ReplayRun) -> None:
    print(f"org {run.org_id}, {partition_key(run.first_day)}..{partition_key(run.last_day)}")
    print(f"{'date':<12}{'accepted':>9}{'held':>6}{'pending':>9}{'invalid':>9}  rejected by reason")
    for day in audit.org_days(engine, run.org_id, run.first_day, run.last_day):
        reasons = ", ".join(f"{code}: {count}" for code, count in sorted(day.rejected_by_reason.items())) or "-"
        print(f"{partition_key(day.day):<12}{day.accepted:>9}{day.held:>6}{day.pending:>9}{day.invalid:>9}  {reasons}")


def _submit_invoices(args: argparse.Namespace) -> int:
    if args.since < 1:
        return _error(f"--since must be at least 1 day, got {args.since}", 2)
    if not FeatureFlags.from_env().etims_enabled:
        return _error("ETIMS disabled – enable ETIMS_ENABLED and retry", 1)
    url = args.database_url or database_url()
    engine = shared_engine(url)  # the same engine the in-process run's resource uses: one pool, one migration
    try:
        try:
            with session_scope(engine) as session:
                snapshot, _ = org_snapshot(session, args.org)
        except LookupError:
            return _error(f"unknown org {args.org}: no such org in the operational database", 2)
        run = ReplayRun.last_days(args.org, args.since, now_utc(), REASON_MANUAL)
        decision = evaluate_guard(snapshot)
        if not decision.passed:
            _print_days(engine, run)
            return _error(decision.message or "ORG_NOT_VERIFIED", 1)
        if args.launch:
            run_id, succeeded = _launch(run, args.webserver_url or webserver_url())
        else:
            run_id, succeeded = _run_in_process(run, url)
        _print_days(engine, run)
    finally:
        engine.dispose()
    if not succeeded:
        return _error(f"run {run_id} did not succeed; see its logs in the Dagster UI", 1)
    print(f"run {run_id} succeeded")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "submit-invoices", help="resubmit one org's invoices of the last N Nairobi days (the runbook's replay)"
    )
    parser.add_argument("--org", type=int, required=True, metavar="ORG_ID", help="the org to replay")
    parser.add_argument("--since", type=int, default=7, metavar="DAYS", help="Nairobi days back, today included")
    parser.add_argument("--launch", action="store_true", help="run on the Dagster instance behind --webserver-url")
    parser.add_argument(
        "--webserver-url", help="with --launch: defaults to $ETIMS_WEBSERVER_URL, else http://127.0.0.1:3000"
    )
    parser.add_argument("--database-url", help="defaults to $ETIMS_DATABASE_URL, else a local SQLite file")
    parser.set_defaults(handler=_submit_invoices)
