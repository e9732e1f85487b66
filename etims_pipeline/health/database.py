"""The health service's engine on the operational database: the usual engine, with connect and statement timeouts.

A probe is bounded by its thread timeout anyway; these make the abandoned work end soon too, so a database
that stops answering does not pile up connections in the pool.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Engine, event

from etims_pipeline.store.db import make_engine

# libpq ignores connect_timeout values below 2 seconds.
_MIN_CONNECT_TIMEOUT = 2
# Bounds a /metrics scrape (one GROUP BY over the attempt log); a readiness probe sets a tighter LOCAL one.
METRICS_STATEMENT_TIMEOUT_MS = 15_000


def health_engine(url: str, connect_timeout: float) -> Engine:
    """`make_engine(url)`, plus `connect_timeout` and a session statement timeout on PostgreSQL."""
    engine = make_engine(url)
    if engine.dialect.name != "postgresql":
        return engine
    seconds = max(_MIN_CONNECT_TIMEOUT, math.ceil(connect_timeout))

    def with_timeouts(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        cparams.setdefault("connect_timeout", seconds)
        cparams["options"] = f"{cparams.get('options', '')} -c statement_timeout={METRICS_STATEMENT_TIMEOUT_MS}".strip()

    event.listen(engine, "do_connect", with_timeouts)
    return engine
