"""A hand-computed KPI scenario: three orgs over 2026-11-21..23 (the 22nd has no invoices at all).

Every expected figure in `EXPECTED` is worked out by hand in the comments of `build_scenario`; rates are
A 0 %, B 16 %, C 0 %, D 0 %, E 8 %, prices VAT-exclusive (etims/tax.py).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Engine, insert, update

from etims_pipeline.nairobi_time import NAIROBI
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.models import AttemptKind, AttemptOutcome, Invoice, SubmissionAttempt, TaxRateEntry
from tests.factories import line, make_invoice, make_org

FIRST_DAY, EMPTY_DAY, LAST_DAY = date(2026, 11, 21), date(2026, 11, 22), date(2026, 11, 23)
RATES = {"A": "0", "B": "16", "C": "0", "D": "0", "E": "8"}


def nairobi(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=NAIROBI)


def attempt(
    engine: Engine,
    invoice_id: int,
    org_id: int,
    at: datetime,
    *,
    kind: AttemptKind = AttemptKind.SAVE,
    outcome: AttemptOutcome = AttemptOutcome.ACCEPTED,
    latency: float | None = None,
    invoice_no: int | None = None,
) -> None:
    with session_scope(engine) as session:
        session.execute(
            insert(SubmissionAttempt).values(
                invoice_id=invoice_id,
                org_id=org_id,
                kind=kind.value,
                outcome=outcome.value,
                requested_at=at,
                latency_seconds=latency,
                reached_etims=latency is not None,
                invoice_no=invoice_no,
            )
        )


def settle(engine: Engine, invoice_id: int, status: str, **values: object) -> None:
    """Set where the invoice stands (amounts given as strings become Decimals)."""
    fields = {key: Decimal(v) if isinstance(v, str) and key.startswith("total") else v for key, v in values.items()}
    with session_scope(engine) as session:
        session.execute(update(Invoice).where(Invoice.id == invoice_id).values(status=status, **fields))


def accepted(
    engine: Engine,
    invoice_id: int,
    org_id: int,
    *,
    no: int,
    sent: datetime,
    latency: float,
    at: datetime,
    total: str,
    tax: str,
) -> None:
    attempt(engine, invoice_id, org_id, sent, latency=latency, invoice_no=no)
    settle(engine, invoice_id, "accepted", invoice_no=no, accepted_at=at, total_amount=total, total_tax=tax)


def rejected(
    engine: Engine, invoice_id: int, org_id: int, *, no: int, sent: datetime, latency: float, code: str
) -> None:
    attempt(engine, invoice_id, org_id, sent, outcome=AttemptOutcome.REJECTED, latency=latency, invoice_no=no)
    settle(engine, invoice_id, "rejected", invoice_no=no, status_code=code)


def build_scenario(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add_all(TaxRateEntry(band=band, rate=Decimal(rate)) for band, rate in RATES.items())
    for org_id in (1, 2, 3):
        make_org(engine, org_id)

    # Org 1, 21st: two accepted sales, one held at 23:30 (backlog from then on).
    inv1 = make_invoice(engine, 1, nairobi(21, 10), lines=[line(), line(quantity="1", unit_price="50", tax_band="A")])
    accepted(
        engine, inv1, 1, no=1, sent=nairobi(21, 10, 0, 5), latency=1.0, at=nairobi(21, 10, 0, 6), total="282", tax="32"
    )
    inv2 = make_invoice(
        engine, 1, nairobi(21, 11), lines=[line(quantity="1", unit_price="1000", discount_rate="10", tax_band="E")]
    )
    attempt(engine, inv2, 1, nairobi(21, 11, 0, 10), outcome=AttemptOutcome.TRANSIENT, latency=3.0, invoice_no=2)
    accepted(
        engine, inv2, 1, no=2, sent=nairobi(21, 11, 1), latency=2.0, at=nairobi(21, 11, 1, 1), total="972", tax="72"
    )
    inv3 = make_invoice(engine, 1, nairobi(21, 23, 30))
    attempt(engine, inv3, 1, nairobi(22, 0, 30), kind=AttemptKind.BLOCKED, outcome=AttemptOutcome.BLOCKED)
    settle(engine, inv3, "held", status_code="ORG_NOT_VERIFIED")
    # Org 1, 23rd: one invalid (backlog), one accepted under number 4 (3 never seen: a gap), one issued at
    # 23:50 and accepted by the 00:30 daily close, before the 01:00 backlog cut-off.
    inv4 = make_invoice(engine, 1, nairobi(23, 9))
    attempt(engine, inv4, 1, nairobi(23, 9, 1), kind=AttemptKind.VALIDATION, outcome=AttemptOutcome.INVALID)
    settle(engine, inv4, "invalid", status_code="INVOICE_BAD_TAX_BAND")
    inv5 = make_invoice(
        engine,
        1,
        nairobi(23, 10),
        lines=[line(quantity="3", unit_price="10", tax_band="C"), line(quantity="1", unit_price="20", tax_band="D")],
    )
    accepted(
        engine, inv5, 1, no=4, sent=nairobi(23, 10, 0, 2), latency=0.5, at=nairobi(23, 10, 0, 3), total="50", tax="0"
    )
    inv6 = make_invoice(engine, 1, nairobi(23, 23, 50), lines=[line(quantity="1")])
    accepted(
        engine, inv6, 1, no=5, sent=nairobi(24, 0, 30), latency=1.5, at=nairobi(24, 0, 30, 1), total="116", tax="16"
    )

    # Org 2: a sale on the 21st, then on the 23rd its credit note (accepted) and three rejected sales.
    inv7 = make_invoice(
        engine, 2, nairobi(21, 9), trader_invoice_no="ORG2-1", lines=[line(quantity="1", unit_price="500")]
    )
    accepted(
        engine, inv7, 2, no=1, sent=nairobi(21, 9, 0, 1), latency=0.8, at=nairobi(21, 9, 0, 10), total="580", tax="80"
    )
    inv8 = make_invoice(
        engine, 2, nairobi(23, 12), receipt_type="R", original="ORG2-1", refund_reason="01", lines=[line(quantity="1")]
    )
    accepted(
        engine, inv8, 2, no=2, sent=nairobi(23, 12, 0, 1), latency=1.2, at=nairobi(23, 12, 0, 5), total="116", tax="16"
    )
    for number, (hour, latency, code) in enumerate([(13, 0.6, "910"), (14, 0.4, "910"), (15, 1.0, "921")], start=3):
        invoice_id = make_invoice(engine, 2, nairobi(23, hour))
        rejected(engine, invoice_id, 2, no=number, sent=nairobi(23, hour, 0, 1), latency=latency, code=code)
    # Org 3 exists but never invoices: a row of zeros every day.


_ZERO_MONEY = {f"{kind}_{band}": Decimal("0.00") for kind in ("taxable", "tax") for band in "abcde"}
_EMPTY: dict[str, object] = {
    "invoices_issued": 0,
    "sales_issued": 0,
    "credit_note_count": 0,
    "submitted": 0,
    "accepted": 0,
    "rejected": 0,
    "held": 0,
    "invalid": 0,
    "acceptance_rate": None,
    "rejected_by_reason": {},
    "gross_sales": Decimal("0.00"),
    "credit_note_value": Decimal("0.00"),
    **_ZERO_MONEY,
    "latency_p50_seconds": None,
    "latency_p95_seconds": None,
    "issue_to_acceptance_p50_seconds": None,
    "issue_to_acceptance_p95_seconds": None,
    "backlog": 0,
    "backlog_oldest_age_seconds": None,
    "invoice_number_gaps": 0,
}


def _row(**values: object) -> dict[str, object]:
    return {
        **_EMPTY,
        **{k: Decimal(v) if isinstance(v, str) else v for k, v in values.items() if k != "reasons"},
        "rejected_by_reason": values.get("reasons", {}),
    }


EXPECTED: dict[tuple[int, date], dict[str, object]] = {
    # 1 on the 21st: inv1 = 2×100 B (200, tax 32) + 1×50 A (50, tax 0) = 282; inv2 = 1000 −10 % E = 900, tax 72 → 972.
    # Save latencies 1.0, 3.0 (transient), 2.0 → p50 2.0, p95 2.9; issue→acceptance 6 s and 61 s → p50 33.5, p95 58.25.
    # Backlog: inv3 issued 23:30, not sent by 01:00 on the 22nd → 1, aged 1.5 h.
    (1, FIRST_DAY): _row(
        invoices_issued=3,
        sales_issued=3,
        submitted=2,
        accepted=2,
        held=1,
        acceptance_rate="1.0000",
        gross_sales="1254.00",
        taxable_a="50.00",
        taxable_b="200.00",
        tax_b="32.00",
        taxable_e="900.00",
        tax_e="72.00",
        latency_p50_seconds=2.0,
        latency_p95_seconds=2.9,
        issue_to_acceptance_p50_seconds=33.5,
        issue_to_acceptance_p95_seconds=58.25,
        backlog=1,
        backlog_oldest_age_seconds=5400,
    ),
    # 1 on the empty 22nd: nothing issued, inv3 still waiting (25.5 h at 01:00 on the 23rd).
    (1, EMPTY_DAY): _row(backlog=1, backlog_oldest_age_seconds=91800),
    # 1 on the 23rd: inv4 invalid, inv5 = 30 C + 20 D = 50, inv6 = 100 B + 16 = 116 → gross 166.
    # Latencies 0.5, 1.5 → p50 1.0, p95 1.45; issue→acceptance 3 s and 2401 s → p50 1202, p95 2281.1.
    # Backlog inv3 (49.5 h) and inv4 (16 h); inv6 went out at 00:30 on the 24th, before the cut-off.
    # Numbers seen by the end of the 23rd: 1, 2, 4 → one gap.
    (1, LAST_DAY): _row(
        invoices_issued=3,
        sales_issued=3,
        submitted=2,
        accepted=2,
        invalid=1,
        acceptance_rate="1.0000",
        gross_sales="166.00",
        taxable_b="100.00",
        tax_b="16.00",
        taxable_c="30.00",
        taxable_d="20.00",
        latency_p50_seconds=1.0,
        latency_p95_seconds=1.45,
        issue_to_acceptance_p50_seconds=1202.0,
        issue_to_acceptance_p95_seconds=2281.1,
        backlog=2,
        backlog_oldest_age_seconds=178200,
        invoice_number_gaps=1,
    ),
    # 2 on the 21st: 1×500 B = 580.
    (2, FIRST_DAY): _row(
        invoices_issued=1,
        sales_issued=1,
        submitted=1,
        accepted=1,
        acceptance_rate="1.0000",
        gross_sales="580.00",
        taxable_b="500.00",
        tax_b="80.00",
        latency_p50_seconds=0.8,
        latency_p95_seconds=0.8,
        issue_to_acceptance_p50_seconds=10.0,
        issue_to_acceptance_p95_seconds=10.0,
    ),
    (2, EMPTY_DAY): _row(),
    # 2 on the 23rd: the credit note (116, accepted) and three rejections (910 ×2, 921); rate 1/4.
    # Latencies 1.2, 0.6, 0.4, 1.0 → p50 0.8, p95 1.17.
    (2, LAST_DAY): _row(
        invoices_issued=4,
        sales_issued=3,
        credit_note_count=1,
        submitted=4,
        accepted=1,
        rejected=3,
        reasons={"910": 2, "921": 1},
        acceptance_rate="0.2500",
        credit_note_value="116.00",
        latency_p50_seconds=0.8,
        latency_p95_seconds=1.17,
        issue_to_acceptance_p50_seconds=5.0,
        issue_to_acceptance_p95_seconds=5.0,
    ),
    (3, FIRST_DAY): _row(),
    (3, EMPTY_DAY): _row(),
    (3, LAST_DAY): _row(),
}
