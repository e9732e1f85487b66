"""The scrape is derived from the attempt log: exact counter values, cumulative buckets, monotonic growth."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from sqlalchemy import Engine

from etims_pipeline.cli import metrics as metrics_cli
from etims_pipeline.observability.metrics import MetricEvent, metric_events
from etims_pipeline.store.metric_models import LATENCY_BUCKETS
from etims_pipeline.store.models import AttemptOutcome, SubmissionAttempt
from tests.observability.attempt_log import append_attempts, blocked, invalid, lookup, save, scrape, value


def test_empty_log_exposes_both_statuses_and_the_runbook_reasons_at_zero(engine: Engine) -> None:
    samples = scrape(engine)

    assert value(samples, "invoices_submitted_total", status="accepted") == 0
    assert value(samples, "invoices_submitted_total", status="rejected") == 0
    for reason in ("feature_disabled", "org_not_verified", "org_check_failed"):
        assert value(samples, "invoices_rejected_total", reason=reason) == 0
    assert not any(name.startswith("etims_latency") for name, _ in samples)


def test_counters_follow_the_attempt_log(engine: Engine) -> None:
    append_attempts(
        engine,
        save(AttemptOutcome.ACCEPTED, 0.3),
        save(AttemptOutcome.TIMEOUT, 30.0),
        lookup(AttemptOutcome.FOUND, 0.2),  # resolves the timeout: an acceptance
        save(AttemptOutcome.REJECTED, 0.4),
        lookup(AttemptOutcome.NOT_FOUND, 0.1),
        save(AttemptOutcome.TRANSIENT),  # never reached eTIMS
        save(AttemptOutcome.DUPLICATE, 0.2),
        blocked("org_not_verified"),
        blocked("org_not_verified"),
        blocked("feature_disabled"),
        invalid("BAD_PIN"),
    )

    samples = scrape(engine)

    assert value(samples, "invoices_submitted_total", status="accepted") == 2
    assert value(samples, "invoices_submitted_total", status="rejected") == 1
    assert value(samples, "invoices_rejected_total", reason="org_not_verified") == 2
    assert value(samples, "invoices_rejected_total", reason="feature_disabled") == 1
    assert value(samples, "invoices_rejected_total", reason="org_check_failed") == 0
    assert value(samples, "invoices_rejected_total", reason="invalid_invoice") == 1
    latency_statuses = {dict(labels)["status"] for name, labels in samples if name == "etims_latency_count"}
    assert latency_statuses == {"accepted", "timeout", "found", "rejected", "not_found", "duplicate"}


def test_only_save_rejections_count_as_rejected(engine: Engine) -> None:
    append_attempts(
        engine,
        lookup(AttemptOutcome.REJECTED, 0.1),
        blocked("org_check_failed"),
        invalid("TAX_BAND"),
    )

    samples = scrape(engine)

    assert value(samples, "invoices_submitted_total", status="rejected") == 0
    assert value(samples, "invoices_rejected_total", reason="org_check_failed") == 1


def test_latency_buckets_are_cumulative_with_sum_and_count(engine: Engine) -> None:
    latencies = (0.05, 0.25, 0.3, 2.5, 100.0, 500.0)  # two exactly on a bound, one past the last
    append_attempts(engine, *(save(AttemptOutcome.ACCEPTED, seconds) for seconds in latencies))

    samples = scrape(engine)

    for bound in LATENCY_BUCKETS:
        expected = sum(1 for seconds in latencies if seconds <= bound)
        assert value(samples, "etims_latency_bucket", status="accepted", le=str(bound)) == expected
    assert value(samples, "etims_latency_bucket", status="accepted", le="+Inf") == len(latencies)
    assert value(samples, "etims_latency_count", status="accepted") == len(latencies)
    assert value(samples, "etims_latency_sum", status="accepted") == pytest.approx(sum(latencies))


def test_counters_only_grow_as_rows_are_appended(engine: Engine) -> None:
    append_attempts(engine, save(AttemptOutcome.ACCEPTED, 0.3), blocked("org_not_verified"))
    before = scrape(engine)

    append_attempts(engine, lookup(AttemptOutcome.FOUND, 1.5), blocked("org_not_verified"))
    after = scrape(engine)

    assert value(after, "invoices_submitted_total", status="accepted") == 2
    assert value(after, "invoices_rejected_total", reason="org_not_verified") == 2
    assert value(after, "etims_latency_count", status="found") == 1
    for key, earlier in before.items():
        assert after[key] >= earlier, key


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [
        (
            save(AttemptOutcome.ACCEPTED, 0.3),
            [
                MetricEvent("invoices_submitted", {"status": "accepted"}, 1),
                MetricEvent("etims_latency", {"status": "accepted"}, 0.3),
            ],
        ),
        (
            lookup(AttemptOutcome.FOUND, 0.2),
            [
                MetricEvent("invoices_submitted", {"status": "accepted"}, 1),
                MetricEvent("etims_latency", {"status": "found"}, 0.2),
            ],
        ),
        (
            save(AttemptOutcome.REJECTED, 0.4),
            [
                MetricEvent("invoices_submitted", {"status": "rejected"}, 1),
                MetricEvent("etims_latency", {"status": "rejected"}, 0.4),
            ],
        ),
        (save(AttemptOutcome.TRANSIENT), []),
        (blocked("feature_disabled"), [MetricEvent("invoices_rejected", {"reason": "feature_disabled"}, 1)]),
        (invalid("BAD_PIN"), [MetricEvent("invoices_rejected", {"reason": "invalid_invoice"}, 1)]),
    ],
)
def test_metric_events_maps_one_attempt(attempt: SubmissionAttempt, expected: list[MetricEvent]) -> None:
    events = metric_events(
        attempt.kind, attempt.outcome, attempt.reason, attempt.latency_seconds, bool(attempt.reached_etims)
    )

    assert events == expected


def _run_cli(database_url: str) -> int:
    parser = argparse.ArgumentParser()
    metrics_cli.register(parser.add_subparsers())
    args = parser.parse_args(["metrics", "--database-url", database_url])
    code: int = args.handler(args)
    return code


def test_cli_prints_the_exposition(sqlite_engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    append_attempts(sqlite_engine, blocked("org_not_verified"))

    code = _run_cli(sqlite_engine.url.render_as_string(hide_password=False))

    assert code == 0
    assert 'invoices_rejected_total{reason="org_not_verified"} 1.0' in capsys.readouterr().out


def test_cli_says_when_the_schema_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _run_cli(f"sqlite:///{tmp_path / 'empty.sqlite3'}")

    assert code == 2
    assert "SCHEMA_MISSING" in capsys.readouterr().err
