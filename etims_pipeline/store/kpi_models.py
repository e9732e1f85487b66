"""Typed models of the vendor KPI tables: one row per org and Nairobi day, and the per-org job outcomes.

`vendor_kpis_daily` is rewritten per (org, range) by the `vendor_kpis` asset; `kpi_job_outcomes` is
append-only, so the `kpi_jobs_success` / `kpi_jobs_fail` counters derived from it are monotonic.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, Float, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from etims_pipeline.nairobi_time import now_utc
from etims_pipeline.store.models import MONEY, Base


class VendorKpiDaily(Base):
    """The KPIs of one org for one Nairobi day (definitions: docs/decisions.md, "Vendor KPI definitions")."""

    __tablename__ = "vendor_kpis_daily"
    __table_args__ = (
        CheckConstraint(
            "invoices_issued >= 0 AND submitted >= 0 AND accepted >= 0 AND rejected >= 0 AND held >= 0 "
            "AND invalid >= 0 AND backlog >= 0 AND invoice_number_gaps >= 0",
            name="counts_not_negative",
        ),
        CheckConstraint("gross_sales >= 0 AND credit_note_value >= 0", name="money_not_negative"),
        Index("ix_vendor_kpis_daily_kpi_date", "kpi_date"),
    )

    org_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kpi_date: Mapped[date] = mapped_column(Date, primary_key=True)
    invoices_issued: Mapped[int] = mapped_column(Integer)
    sales_issued: Mapped[int] = mapped_column(Integer)
    credit_note_count: Mapped[int] = mapped_column(Integer)
    submitted: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    rejected_by_reason: Mapped[dict[str, int]] = mapped_column(JSON)
    held: Mapped[int] = mapped_column(Integer)
    invalid: Mapped[int] = mapped_column(Integer)
    acceptance_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    gross_sales: Mapped[Decimal] = mapped_column(MONEY)
    taxable_a: Mapped[Decimal] = mapped_column(MONEY)
    taxable_b: Mapped[Decimal] = mapped_column(MONEY)
    taxable_c: Mapped[Decimal] = mapped_column(MONEY)
    taxable_d: Mapped[Decimal] = mapped_column(MONEY)
    taxable_e: Mapped[Decimal] = mapped_column(MONEY)
    tax_a: Mapped[Decimal] = mapped_column(MONEY)
    tax_b: Mapped[Decimal] = mapped_column(MONEY)
    tax_c: Mapped[Decimal] = mapped_column(MONEY)
    tax_d: Mapped[Decimal] = mapped_column(MONEY)
    tax_e: Mapped[Decimal] = mapped_column(MONEY)
    credit_note_value: Mapped[Decimal] = mapped_column(MONEY)
    latency_p50_seconds: Mapped[float | None] = mapped_column(Float)
    latency_p95_seconds: Mapped[float | None] = mapped_column(Float)
    issue_to_acceptance_p50_seconds: Mapped[float | None] = mapped_column(Float)
    issue_to_acceptance_p95_seconds: Mapped[float | None] = mapped_column(Float)
    backlog: Mapped[int] = mapped_column(Integer)
    backlog_oldest_age_seconds: Mapped[int | None] = mapped_column(Integer)
    invoice_number_gaps: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[str | None] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(default=now_utc)


class KpiJobOutcome(Base):
    """One org's outcome in one KPI run over a range of days; never updated or deleted."""

    __tablename__ = "kpi_job_outcomes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(Integer, index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    run_id: Mapped[str | None] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(default=now_utc)
