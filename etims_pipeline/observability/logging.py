"""Structured JSON logs on the two loggers the runbook promises, with secrets masked.

`invoicing.services.etims` gets one record per submission attempt; `metrics` gets one record per metric
the attempt moves, built by the same `metric_events` the Prometheus scrape uses. Every record is one
JSON object per line: `ts` (ISO 8601, UTC), `level`, `logger`, `msg`, then the record's `extra` fields.

The cmcKey must never appear in a log. `etims.secret.Secret` keeps it out of reprs; `RedactingFilter`
is the second line of defence: it masks every value passed to `register_secret` wherever it shows up in
the message or the extras, and any extra whose key names a key or password (`cmcKey`, `cmc_key`,
`password`, ...). Records still propagate to the root logger, so Dagster's and pytest's capture see them.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final, TextIO

from etims_pipeline.etims.secret import MASK, Secret
from etims_pipeline.observability.metrics import metric_events

METRICS_LOGGER: Final = "metrics"
ETIMS_LOGGER: Final = "invoicing.services.etims"

# Attributes every LogRecord has; anything else on a record came from `extra`.
_PLAIN_RECORD: Final = logging.LogRecord("", 0, "", 0, "", None, None)
_RECORD_ATTRIBUTES: Final = frozenset(_PLAIN_RECORD.__dict__) | {"message", "asctime"}
# Extra keys are compared lower-cased with separators removed: cmcKey, cmc_key, cmc-key, db_password.
_SECRET_KEY_PARTS: Final = ("cmckey", "password")


class _SecretRegistry:
    """The registered secrets, kept longest first (in case one contains another): sorted once per new secret,
    not on every record, and replaced whole, so a reader in another thread sees one complete tuple."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.masking_order: tuple[str, ...] = ()

    def add(self, secret: str) -> None:
        with self._lock:
            if secret not in self.masking_order:
                self.masking_order = tuple(sorted({*self.masking_order, secret}, key=len, reverse=True))


_secrets = _SecretRegistry()


def register_secret(value: str | Secret) -> None:
    """Mask `value` in every record that passes a `RedactingFilter` from now on."""
    clear = value.reveal() if isinstance(value, Secret) else value
    if clear:  # masking the empty string would mask everything
        _secrets.add(clear)


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {key: value for key, value in record.__dict__.items() if key not in _RECORD_ATTRIBUTES}


def _is_secret_key(key: str) -> bool:
    normalised = key.lower().replace("_", "").replace("-", "")
    return any(part in normalised for part in _SECRET_KEY_PARTS)


def _mask_text(text: str) -> str:
    for secret in _secrets.masking_order:
        text = text.replace(secret, MASK)
    return text


def _redact(value: object) -> object:
    if isinstance(value, str):
        return _mask_text(value)
    if isinstance(value, Mapping):
        return {key: MASK if _is_secret_key(str(key)) else _redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(item) for item in value]
    return value


class RedactingFilter(logging.Filter):
    """Masks registered secrets and secret-named extras in place; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _mask_text(record.getMessage())
        record.args = None
        for key, value in _extras(record).items():
            setattr(record, key, MASK if _is_secret_key(key) else _redact(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, the `extra` fields, and `exc` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in _extras(record).items():
            payload.setdefault(key, value)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class _JsonStreamHandler(logging.StreamHandler[TextIO]):
    """Writes to its target, or to whatever `sys.stderr` is at emit time (Dagster and pytest swap it)."""

    def __init__(self) -> None:
        super().__init__()
        self.target: TextIO | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = self.target or sys.stderr
        super().emit(record)


_redactor: Final = RedactingFilter()
_handler: Final = _JsonStreamHandler()
_handler.setFormatter(JsonFormatter())
_handler.addFilter(_redactor)


def configure_json_logging(level: int | str = "INFO", stream: TextIO | None = None) -> None:
    """Send both loggers to `stream` (default: the current stderr) as JSON; calling again only updates them."""
    _handler.target = stream
    for name in (METRICS_LOGGER, ETIMS_LOGGER):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        if _handler not in logger.handlers:
            logger.addHandler(_handler)
        # On the logger too, so records are masked before they propagate to any other handler.
        if _redactor not in logger.filters:
            logger.addFilter(_redactor)


def log_metric(name: str, labels: dict[str, str], value: float) -> None:
    """One record on the `metrics` logger: a counter increment or a histogram observation."""
    logging.getLogger(METRICS_LOGGER).info(
        "metric", extra={"event": "metric", "metric": name, "labels": labels, "value": value}
    )


def log_submission(
    *,
    org_id: int,
    invoice_id: int,
    invoice_no: int | None,
    kind: str,
    status: str,
    reason: str | None,
    result_code: str | None,
    latency_seconds: float | None,
    attempt: int,
    run_id: str | None,
    reached_etims: bool,
) -> None:
    """Log one submission attempt, and each metric it moves exactly as the scrape will count it.

    `status` is the attempt's outcome; `reached_etims` is what the attempt row records.
    """
    logging.getLogger(ETIMS_LOGGER).info(
        "etims submission",
        extra={
            "event": "etims_submission",
            "org_id": org_id,
            "invoice_id": invoice_id,
            "invoice_no": invoice_no,
            "kind": kind,
            "status": status,
            "reason": reason,
            "result_code": result_code,
            "latency_seconds": latency_seconds,
            "attempt": attempt,
            "run_id": run_id,
        },
    )
    for event in metric_events(kind, status, reason, latency_seconds, reached_etims):
        log_metric(event.metric, event.labels, event.value)
