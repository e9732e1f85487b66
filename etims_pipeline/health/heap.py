"""Keep the garbage collector's full collections short in the long-running health service.

The service imports Dagster and SQLAlchemy and opens a Dagster instance: about 200,000 long-lived objects.
CPython's full (generation 2) collection walks every one of them; on 2 cores it took 75–160 ms, and each
request queued on the event loop waited that long too. It was the p99 tail of `/readyz` under load
(docs/benchmarks.md). `gc.freeze()` moves everything alive at that moment into a permanent generation that
collections skip, so after a warm-up they walk only the ~10,000 objects the service itself churns.

The cost: a frozen object that later becomes cyclic garbage is never reclaimed. What is alive after the
warm-up (modules, the instance, the engine and its pool) lives as long as the process anyway.
"""

from __future__ import annotations

import gc
import logging

logger = logging.getLogger(__name__)


def freeze_warm_heap() -> int:
    """Collect once, then exempt every object alive now from later collections; returns how many are frozen."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    logger.info("froze %d warm objects out of the garbage collector's walks", frozen)
    return frozen
