"""INSERT … ON CONFLICT for the two backends we run on (SQLite locally, PostgreSQL in production)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def upsert_insert(session: Session, table: Any) -> Any:
    """A dialect INSERT supporting `on_conflict_do_nothing` / `on_conflict_do_update`."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
