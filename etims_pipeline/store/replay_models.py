"""The org status change log: one row per org insert and per change of its KRA PIN or tax status.

Rows are written by database triggers on `vendor_orgs` (migration 0003), never by the application, so a fix
made by the loader, the CLI or by hand in SQL is seen alike. The replay sensor reads it by `id`, the
database's own sequence, so neither Dagster's clock nor the database's can make it miss or repeat a change.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from etims_pipeline.store.models import Base


class OrgStatusChange(Base):
    """Append-only; `changed_at` is the database's clock (transaction time on PostgreSQL)."""

    __tablename__ = "org_status_changes"
    # sqlite_autoincrement: ids are never reused, even after the highest row is deleted.
    __table_args__ = (Index("ix_org_status_changes_org_id_id", "org_id", "id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[int] = mapped_column(Integer)
    kra_pin: Mapped[str | None] = mapped_column(String(20))
    tax_status: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
