"""Structured logs: one JSON object per line, metric records that match the scrape's mapping, no secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from etims_pipeline.etims.secret import MASK, Secret
from etims_pipeline.observability.logging import (
    ETIMS_LOGGER,
    METRICS_LOGGER,
    JsonFormatter,
    RedactingFilter,
    configure_json_logging,
    log_metric,
    log_submission,
    register_secret,
)
from etims_pipeline.observability.metrics import metric_events

LOGGERS = (METRICS_LOGGER, ETIMS_LOGGER)


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """JSON logging configured onto a StringIO; the loggers' previous state is restored afterwards."""
    saved = {name: logging.getLogger(name) for name in LOGGERS}
    state = {name: (lg.handlers[:], lg.filters[:], lg.level) for name, lg in saved.items()}
    out = io.StringIO()
    configure_json_logging(stream=out)
    yield out
    for name, logger in saved.items():
        logger.handlers, logger.filters, level = state[name]
        logger.setLevel(level)


def records(stream: io.StringIO, logger: str | None = None) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if logger is None or line["logger"] == logger]


def submit(
    *,
    kind: str = "save",
    status: str = "accepted",
    reason: str | None = None,
    latency_seconds: float | None = 0.42,
    reached_etims: bool = True,
) -> None:
    log_submission(
        org_id=42,
        invoice_id=7,
        invoice_no=1001,
        kind=kind,
        status=status,
        reason=reason,
        result_code="000",
        latency_seconds=latency_seconds,
        attempt=1,
        run_id="run-1",
        reached_etims=reached_etims,
    )


def test_submission_record_is_one_json_object_with_its_fields(stream: io.StringIO) -> None:
    submit()

    (record,) = records(stream, ETIMS_LOGGER)
    assert record == {
        "ts": record["ts"],
        "level": "INFO",
        "logger": "invoicing.services.etims",
        "msg": "etims submission",
        "event": "etims_submission",
        "org_id": 42,
        "invoice_id": 7,
        "invoice_no": 1001,
        "kind": "save",
        "status": "accepted",
        "reason": None,
        "result_code": "000",
        "latency_seconds": 0.42,
        "attempt": 1,
        "run_id": "run-1",
    }
    assert datetime.fromisoformat(str(record["ts"])).utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "attempt",
    [
        ("save", "accepted", None, 0.42, True),
        ("lookup", "found", None, 0.2, True),
        ("save", "rejected", None, 0.3, True),
        ("save", "timeout", None, 30.0, True),
        ("blocked", "blocked", "org_not_verified", None, False),
        ("validation", "invalid", "invalid_invoice", None, False),
    ],
)
def test_metric_records_match_metric_events(
    stream: io.StringIO, attempt: tuple[str, str, str | None, float | None, bool]
) -> None:
    kind, status, reason, latency_seconds, reached_etims = attempt

    submit(kind=kind, status=status, reason=reason, latency_seconds=latency_seconds, reached_etims=reached_etims)

    logged = [
        (record["event"], record["metric"], record["labels"], record["value"])
        for record in records(stream, METRICS_LOGGER)
    ]
    expected = [
        ("metric", event.metric, event.labels, event.value)
        for event in metric_events(kind, status, reason, latency_seconds, reached_etims)
    ]
    assert logged == expected
    assert logged  # every case here moves at least one metric, or the comparison proves nothing


def test_an_attempt_that_did_not_reach_etims_logs_no_latency(stream: io.StringIO) -> None:
    submit(status="transient", latency_seconds=1.5, reached_etims=False)

    assert records(stream, METRICS_LOGGER) == []


def test_log_metric_for_other_callers(stream: io.StringIO) -> None:
    log_metric("kpi_jobs_success", {"org_id": "42"}, 1)

    (record,) = records(stream)
    assert record["logger"] == "metrics"
    assert (record["event"], record["metric"], record["labels"], record["value"]) == (
        "metric",
        "kpi_jobs_success",
        {"org_id": "42"},
        1,
    )


class SnapshotHandler(logging.Handler):
    """Keeps each record's text as it was when this handler saw it (later handlers mutate records)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage() + repr(record.__dict__))


def test_registered_secrets_and_secret_named_extras_are_masked(stream: io.StringIO) -> None:
    register_secret(Secret("cmc-4f1d9a7e"))
    register_secret("pg-s3cret")
    logger = logging.getLogger(ETIMS_LOGGER)
    # A handler that runs before the JSON one must not see clear values either: the logger masks first.
    first = SnapshotHandler()
    logger.handlers.insert(0, first)

    logger.warning(
        "sent header cmcKey=%s",
        "cmc-4f1d9a7e",
        extra={
            "cmcKey": "not-registered-but-named-like-a-key",
            "request": {
                "headers": {"cmc_key": "clear-nested-key"},
                "url": "postgresql://u:pg-s3cret@db/etims",
            },
        },
    )

    (record,) = records(stream)
    assert record["msg"] == f"sent header cmcKey={MASK}"
    assert record["cmcKey"] == MASK
    assert record["request"] == {"headers": {"cmc_key": MASK}, "url": f"postgresql://u:{MASK}@db/etims"}
    for clear in ("cmc-4f1d9a7e", "pg-s3cret", "not-registered", "clear-nested-key"):
        assert clear not in stream.getvalue()
        assert clear not in first.seen[0]


def test_configuring_twice_keeps_one_handler_and_moves_to_the_new_stream(stream: io.StringIO) -> None:
    second = io.StringIO()

    configure_json_logging(level="DEBUG", stream=second)
    log_metric("invoices_submitted", {"status": "accepted"}, 1)

    for name in LOGGERS:
        logger = logging.getLogger(name)
        assert sum(isinstance(handler.formatter, JsonFormatter) for handler in logger.handlers) == 1
        assert sum(isinstance(log_filter, RedactingFilter) for log_filter in logger.filters) == 1
        assert logger.level == logging.DEBUG
    assert stream.getvalue() == ""
    assert len(records(second)) == 1
