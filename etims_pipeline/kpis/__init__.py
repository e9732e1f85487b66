"""Vendor KPIs: set-based queries, pandas shaping, idempotent per-org writes, reconciliation (no Dagster)."""
