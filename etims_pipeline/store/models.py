"""Typed SQLAlchemy 2 models of the operational store.

The attempt log is append-only: every submission attempt (including the guard's hard blocks and lookups
made to resolve a timeout) is one row, so the metrics, the KPIs and the audit trail all derive from it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from etims_pipeline.nairobi_time import now_utc, to_utc
from etims_pipeline.store.encrypted import EncryptedString

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MONEY = Numeric(18, 2)
QUANTITY = Numeric(13, 2)
RATE = Numeric(7, 2)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which keeps no offset) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = to_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime(), Decimal: MONEY}


class TaxStatus(StrEnum):
    VERIFIED = "VERIFIED"
    PENDING = "PENDING"
    UNVERIFIED = "UNVERIFIED"
    SUSPENDED = "SUSPENDED"


class InvoiceStatus(StrEnum):
    PENDING = "pending"  # waiting to be sent (new, or a transient failure to retry)
    HELD = "held"  # blocked by the org guard; eligible for replay once the org is fixed
    SENDING = "sending"  # claimed by a run under a lease; it may already have reached eTIMS
    UNKNOWN = "unknown"  # sent, outcome unknown (timeout, 5xx, 994): resolved by lookup, never blind resend
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # eTIMS refused it; `retryable` says whether a replay can succeed
    INVALID = "invalid"  # failed local validation; the invoice data must be corrected


# Statuses a submission run picks up. SENDING is taken only once its lease has expired.
SUBMITTABLE_STATUSES = (InvoiceStatus.PENDING, InvoiceStatus.HELD, InvoiceStatus.UNKNOWN)


class AttemptKind(StrEnum):
    SAVE = "save"  # saveTrnsSalesOsdc
    LOOKUP = "lookup"  # selectInvoiceDetails, to resolve an unknown outcome before any resend
    BLOCKED = "blocked"  # stopped before any call: flag off, org guard, org check failed
    VALIDATION = "validation"  # stopped by local validation before a number was reserved


class AttemptOutcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    TRANSIENT = "transient"
    TIMEOUT = "timeout"
    DUPLICATE = "duplicate"
    FOUND = "found"  # lookup found the invoice at eTIMS: accepted earlier, receipt recovered
    NOT_FOUND = "not_found"  # lookup: eTIMS does not have it, safe to (re)send
    BLOCKED = "blocked"
    INVALID = "invalid"


class VendorOrg(Base):
    __tablename__ = "vendor_orgs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    kra_pin: Mapped[str | None] = mapped_column(String(20))
    tax_status: Mapped[str] = mapped_column(String(20), default=TaxStatus.PENDING.value)
    bhf_id: Mapped[str] = mapped_column(String(2), default="00")
    device_serial: Mapped[str] = mapped_column(String(100))
    # The communication key eTIMS issued at device init. Never logged, never in metadata (see etims.secret).
    # Encrypted at rest under ETIMS_SECRETS_KEY (store/encrypted.py).
    cmc_key: Mapped[str | None] = mapped_column(EncryptedString(255), default=None)
    sdc_id: Mapped[str | None] = mapped_column(String(40), default=None)
    mrc_no: Mapped[str | None] = mapped_column(String(40), default=None)
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc, onupdate=now_utc, index=True)

    def __repr__(self) -> str:  # the default repr would print cmc_key
        return f"VendorOrg(id={self.id}, kra_pin={self.kra_pin!r}, tax_status={self.tax_status!r})"


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("org_id", "trader_invoice_no"),
        UniqueConstraint("org_id", "invoice_no", name="uq_invoices_org_invoice_no"),
        Index("ix_invoices_issue_date_status", "issue_date", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("vendor_orgs.id"), index=True)
    trader_invoice_no: Mapped[str] = mapped_column(String(50))
    receipt_type: Mapped[str] = mapped_column(String(1))
    original_trader_invoice_no: Mapped[str | None] = mapped_column(String(50), default=None)
    refund_reason: Mapped[str | None] = mapped_column(String(2), default=None)
    payment_type: Mapped[str] = mapped_column(String(2))
    issued_at: Mapped[datetime] = mapped_column()
    issue_date: Mapped[date] = mapped_column(Date)  # the Nairobi day: the partition it belongs to
    customer_pin: Mapped[str | None] = mapped_column(String(20), default=None)
    customer_name: Mapped[str | None] = mapped_column(String(100), default=None)
    remark: Mapped[str | None] = mapped_column(String(400), default=None)
    declared_total: Mapped[Decimal | None] = mapped_column(MONEY, default=None)

    status: Mapped[str] = mapped_column(String(12), default=InvoiceStatus.PENDING.value)
    status_code: Mapped[str | None] = mapped_column(String(60), default=None)
    status_message: Mapped[str | None] = mapped_column(Text, default=None)
    retryable: Mapped[bool] = mapped_column(Boolean, default=True)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    # Set (and committed) before every save call, cleared once the outcome is known: while it is set the
    # invoice may exist at eTIMS, so the next attempt must look it up before any resend.
    needs_lookup: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    claim_expires_at: Mapped[datetime | None] = mapped_column(default=None)

    invoice_no: Mapped[int | None] = mapped_column(Integer, default=None)  # invcNo, reserved once, never reused
    original_invoice_no: Mapped[int | None] = mapped_column(Integer, default=None)
    total_taxable: Mapped[Decimal | None] = mapped_column(MONEY, default=None)
    total_tax: Mapped[Decimal | None] = mapped_column(MONEY, default=None)
    total_amount: Mapped[Decimal | None] = mapped_column(MONEY, default=None)
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    receipt_no: Mapped[int | None] = mapped_column(Integer, default=None)  # curRcptNo
    total_receipt_no: Mapped[int | None] = mapped_column(Integer, default=None)  # totRcptNo
    internal_data: Mapped[str | None] = mapped_column(String(64), default=None)
    receipt_signature: Mapped[str | None] = mapped_column(String(64), default=None)
    sdc_datetime: Mapped[datetime | None] = mapped_column(default=None)

    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(default=now_utc, onupdate=now_utc)

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.seq", cascade="all, delete-orphan"
    )


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (UniqueConstraint("invoice_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    item_code: Mapped[str] = mapped_column(String(20))
    item_class_code: Mapped[str] = mapped_column(String(10))
    item_name: Mapped[str] = mapped_column(String(200))
    barcode: Mapped[str | None] = mapped_column(String(20), default=None)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    discount_rate: Mapped[Decimal] = mapped_column(RATE, default=Decimal("0"))
    tax_band: Mapped[str] = mapped_column(String(1))
    packaging_unit: Mapped[str] = mapped_column(String(5))
    quantity_unit: Mapped[str] = mapped_column(String(5))

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class SubmissionAttempt(Base):
    """One row per attempt; never updated or deleted."""

    __tablename__ = "submission_attempts"
    __table_args__ = (Index("ix_submission_attempts_kind_outcome", "kind", "outcome"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    org_id: Mapped[int] = mapped_column(Integer, index=True)
    run_id: Mapped[str | None] = mapped_column(String(64), default=None)
    kind: Mapped[str] = mapped_column(String(12))
    invoice_no: Mapped[int | None] = mapped_column(Integer, default=None)
    requested_at: Mapped[datetime] = mapped_column(index=True)
    latency_seconds: Mapped[float | None] = mapped_column(Float, default=None)
    http_status: Mapped[int | None] = mapped_column(Integer, default=None)
    result_code: Mapped[str | None] = mapped_column(String(60), default=None)
    result_message: Mapped[str | None] = mapped_column(Text, default=None)
    outcome: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(60), default=None)
    reached_etims: Mapped[bool] = mapped_column(Boolean, default=False)
    # The guard's view of the org when the attempt was made: what the blocking check audits.
    org_tax_status: Mapped[str | None] = mapped_column(String(20), default=None)
    org_pin_valid: Mapped[bool | None] = mapped_column(Boolean, default=None)
    receipt: Mapped[dict[str, object] | None] = mapped_column(JSON(none_as_null=True), default=None)


class InvoiceSequence(Base):
    """The last invcNo reserved per (PIN, branch): numbers are reserved transactionally and never reused."""

    __tablename__ = "invoice_sequences"

    kra_pin: Mapped[str] = mapped_column(String(20), primary_key=True)
    bhf_id: Mapped[str] = mapped_column(String(2), primary_key=True)
    last_invoice_no: Mapped[int] = mapped_column(Integer, default=0)


class TaxRateEntry(Base):
    """Tax band rates cached from selectCodeList class 04."""

    __tablename__ = "tax_rates"

    band: Mapped[str] = mapped_column(String(1), primary_key=True)
    rate: Mapped[Decimal] = mapped_column(RATE)
    name: Mapped[str | None] = mapped_column(String(60), default=None)
    fetched_at: Mapped[datetime] = mapped_column(default=now_utc)
