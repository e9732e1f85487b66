"""Sealed rollups of the attempt log: what a metrics scrape reads instead of old attempt rows.

The attempt log only grows, so counting all of it on every scrape costs more each day (about 0.25 s per
million rows on PostgreSQL). Attempts requested before yesterday (Nairobi) are folded once into
`attempt_rollups`: one row per sealed period and attempt group (kind, outcome, reason, reached_etims), with
the group's count, latency count and sum, and histogram bucket counts. `attempt_rollup_seal` holds the one
watermark, `sealed_before` (NULL until the first seal): the rollups cover every attempt requested before
it, and a scrape counts the log's own rows from it on.

The bucket bounds are part of this schema: changing `LATENCY_BUCKETS` needs a migration that empties the
rollups and resets the seal, so that they are sealed again with the new bounds.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Integer, String, Table

from etims_pipeline.store.models import Base, UtcDateTime

# Upper bounds in seconds of the `etims_latency` histogram, as floats so `str` gives the usual `le` text.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
SEAL_ROW_ID = 1


def bucket_column(bound: float) -> str:
    """The rollup column counting attempts with latency <= `bound` (`bucket_le_0_05`, `bucket_le_120`)."""
    return "bucket_le_" + f"{bound:g}".replace(".", "_")


attempt_rollup_seal = Table(
    "attempt_rollup_seal",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("sealed_before", UtcDateTime(), nullable=True),
)

attempt_rollups = Table(
    "attempt_rollups",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("period_start", UtcDateTime(), nullable=True),  # NULL: from the first attempt on
    Column("period_end", UtcDateTime(), nullable=False),
    Column("kind", String(12), nullable=False),
    Column("outcome", String(12), nullable=False),
    Column("reason", String(60), nullable=True),
    Column("reached_etims", Boolean, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("observed", Integer, nullable=False),
    Column("latency_sum", Float, nullable=False),
    *(Column(bucket_column(bound), Integer, nullable=False) for bound in LATENCY_BUCKETS),
)
