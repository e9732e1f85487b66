"""saveTrnsSalesOsdc payloads: every band field, Nairobi dates, exact JSON numbers, sale vs credit note."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from etims_pipeline.etims.codes import TAX_BANDS
from etims_pipeline.etims.document import SaleDocument
from etims_pipeline.etims.payload import build_sales_payload
from etims_pipeline.etims.tax import TaxRates
from tests.etims.etims_support import ISSUED_AT, RATES, make_credit_note, make_doc, make_line

BAND_FIELDS = [f"{prefix}{band}" for prefix in ("taxblAmt", "taxRt", "taxAmt") for band in TAX_BANDS]

EXAMPLE_B = make_line(quantity=Decimal(3), unit_price=Decimal("33.33"), discount_rate=Decimal(10), tax_band="B")
EXAMPLE_E = make_line(item_code="KE2NTXU0000002", quantity=Decimal(2), unit_price=Decimal("49.99"), tax_band="E")


def build(
    doc: SaleDocument | None = None,
    *,
    rates: TaxRates = RATES,
    confirmed_at: datetime = ISSUED_AT,
    invoice_no: int = 17,
) -> dict[str, Any]:
    return build_sales_payload(
        tin="P051365947M",
        bhf_id="00",
        invoice_no=invoice_no,
        doc=doc or make_doc(EXAMPLE_B, EXAMPLE_E),
        rates=rates,
        confirmed_at=confirmed_at,
        trade_name="Acme Traders",
    )


def wire(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as eTIMS receives it, numbers read back as Decimal."""
    decoded: dict[str, Any] = json.loads(json.dumps(payload), parse_float=Decimal)
    return decoded


def all_keys(value: object) -> list[str]:
    if isinstance(value, dict):
        return [str(key) for key in value] + [k for v in value.values() for k in all_keys(v)]
    if isinstance(value, list):
        return [k for v in value for k in all_keys(v)]
    return []


def test_header_identifies_the_taxpayer_branch_and_number() -> None:
    payload = build(invoice_no=17)
    assert payload["tin"] == "P051365947M"
    assert payload["bhfId"] == "00"
    assert payload["invcNo"] == 17
    assert payload["trdInvcNo"] == "INV-0001"
    assert payload["salesTyCd"] == "N"
    assert payload["salesSttsCd"] == "02"
    assert payload["pmtTyCd"] == "01"
    assert payload["custTin"] == "P051365947M"
    assert payload["custNm"] == "Acme Ltd"
    assert payload["receipt"]["rptNo"] == 17
    assert payload["receipt"]["trdeNm"] == "Acme Traders"
    assert payload["receipt"]["custTin"] == "P051365947M"


@pytest.mark.parametrize("band_used", TAX_BANDS)
def test_all_fifteen_band_fields_are_present_even_when_zero(band_used: str) -> None:
    payload = build(make_doc(make_line(tax_band=band_used)))
    for field in BAND_FIELDS:
        assert field in payload, field
    for band in TAX_BANDS:
        if band != band_used:
            assert payload[f"taxblAmt{band}"] == 0
            assert payload[f"taxAmt{band}"] == 0
    assert payload[f"taxblAmt{band_used}"] == 200


def test_band_rates_come_from_the_given_rates() -> None:
    payload = build()
    assert {band: payload[f"taxRt{band}"] for band in TAX_BANDS} == {"A": 0, "B": 16, "C": 0, "D": 0, "E": 8}
    other = TaxRates({"A": Decimal(0), "B": Decimal(18), "C": Decimal(0), "D": Decimal(0), "E": Decimal("10.5")})
    payload = build(rates=other)
    assert payload["taxRtB"] == 18
    assert payload["taxRtE"] == 10.5


def test_amounts_reach_the_wire_exactly() -> None:
    body = wire(build())
    assert body["taxblAmtB"] == Decimal("89.99")
    assert body["taxAmtB"] == Decimal("14.40")
    assert body["taxblAmtE"] == Decimal("99.98")
    assert body["taxAmtE"] == Decimal("8.00")
    assert body["totTaxblAmt"] == Decimal("189.97")
    assert body["totTaxAmt"] == Decimal("22.40")
    assert body["totAmt"] == Decimal("212.37")
    first = body["itemList"][0]
    assert (first["qty"], first["prc"], first["splyAmt"], first["dcRt"], first["dcAmt"]) == (
        3,
        Decimal("33.33"),
        Decimal("99.99"),
        10,
        Decimal("10.00"),
    )
    assert (first["taxblAmt"], first["taxAmt"], first["totAmt"]) == (
        Decimal("89.99"),
        Decimal("14.40"),
        Decimal("104.39"),
    )


@pytest.mark.parametrize("price", ["1234.56", "0.01", "0.10", "99999.99", "104.39", "1000000.05"])
def test_decimal_prices_serialise_with_two_decimals_intact(price: str) -> None:
    payload = build(make_doc(make_line(quantity=Decimal(1), unit_price=Decimal(price), tax_band="A")))
    text = json.dumps(payload)
    assert f'"prc": {Decimal(price).normalize():f}' in text
    body = wire(payload)
    assert body["itemList"][0]["prc"] == Decimal(price)
    assert body["totAmt"] == Decimal(price)
    assert body["taxblAmtA"] == Decimal(price)


def test_1234_56_stays_1234_56_in_json() -> None:
    text = json.dumps(build(make_doc(make_line(quantity=Decimal(1), unit_price=Decimal("1234.56"), tax_band="A"))))
    assert '"totAmt": 1234.56' in text
    assert '"prc": 1234.56' in text


def test_totals_equal_the_sums_of_the_items() -> None:
    lines = [
        EXAMPLE_B,
        EXAMPLE_E,
        make_line(quantity=Decimal(1), unit_price=Decimal("10.01"), tax_band="B"),
        make_line(quantity=Decimal("0.5"), unit_price=Decimal("4.05"), tax_band="A"),
    ]
    body = wire(build(make_doc(*lines)))
    for band in TAX_BANDS:
        items = [item for item in body["itemList"] if item["taxTyCd"] == band]
        assert sum((item["taxblAmt"] for item in items), Decimal(0)) == body[f"taxblAmt{band}"]
        assert sum((item["taxAmt"] for item in items), Decimal(0)) == body[f"taxAmt{band}"]
    assert body["totTaxblAmt"] == sum(body[f"taxblAmt{band}"] for band in TAX_BANDS)
    assert body["totTaxAmt"] == sum(body[f"taxAmt{band}"] for band in TAX_BANDS)
    assert body["totAmt"] == body["totTaxblAmt"] + body["totTaxAmt"]
    assert body["totAmt"] == sum(item["totAmt"] for item in body["itemList"])


def test_dates_are_nairobi_local_time() -> None:
    # 22:30 UTC on 23 Nov is 01:30 on 24 Nov in Nairobi.
    payload = build(confirmed_at=ISSUED_AT)
    assert payload["salesDt"] == "20261124"
    assert payload["cfmDt"] == "20261124013000"
    assert payload["receipt"]["rcptPbctDt"] == "20261124013000"
    assert payload["stockRlsDt"] == "20261124013000"


def test_cfm_dt_is_the_confirmation_time_not_the_issue_time() -> None:
    payload = build(confirmed_at=datetime(2026, 11, 24, 6, 0, 5, tzinfo=UTC))
    assert payload["cfmDt"] == "20261124090005"
    assert payload["salesDt"] == "20261124"
    assert payload["receipt"]["rcptPbctDt"] == "20261124013000"


def test_a_sale_has_no_original_and_no_refund_fields() -> None:
    # Even stray credit-note fields on a sale document do not leak into the payload.
    payload = build(make_doc(original_invoice_no=9, refund_reason="01"))
    assert payload["rcptTyCd"] == "S"
    assert payload["orgInvcNo"] == 0
    assert payload["rfdRsnCd"] is None
    assert payload["rfdDt"] is None


def test_a_credit_note_carries_the_original_reason_and_refund_date() -> None:
    payload = build(make_credit_note(original_invoice_no=41, refund_reason="06"))
    assert payload["rcptTyCd"] == "R"
    assert payload["orgInvcNo"] == 41
    assert payload["rfdRsnCd"] == "06"
    assert payload["rfdDt"] == "20261124013000"
    assert payload["trdInvcNo"] == "CN-0001"
    # Amounts stay positive on a credit note.
    assert payload["totAmt"] > 0


def test_the_communication_key_is_never_in_the_body() -> None:
    for doc in (make_doc(EXAMPLE_B, EXAMPLE_E), make_credit_note()):
        keys = all_keys(build(doc))
        assert keys
        assert not [key for key in keys if key.lower() == "cmckey"]


@pytest.mark.parametrize("count", [1, 2, 5])
def test_items_are_numbered_from_one_and_counted(count: int) -> None:
    lines = [make_line(item_code=f"KE1NTXU{n:07d}", quantity=Decimal(n)) for n in range(1, count + 1)]
    payload = build(make_doc(*lines))
    assert payload["totItemCnt"] == count
    assert [item["itemSeq"] for item in payload["itemList"]] == list(range(1, count + 1))
    assert [item["itemCd"] for item in payload["itemList"]] == [line.item_code for line in lines]
    assert [item["qty"] for item in payload["itemList"]] == list(range(1, count + 1))


def test_item_fields_copy_the_line() -> None:
    line = make_line(barcode="6161101234567", packaging_unit="BA", quantity_unit="KG")
    item = build(make_doc(line))["itemList"][0]
    assert item["itemClsCd"] == "5059690800"
    assert item["itemNm"] == "Widget"
    assert item["bcd"] == "6161101234567"
    assert item["pkgUnitCd"] == "BA"
    assert item["qtyUnitCd"] == "KG"
    assert item["taxTyCd"] == "B"


def test_missing_customer_becomes_null() -> None:
    payload = build(make_doc(customer_pin=None, customer_name=None))
    assert payload["custTin"] is None
    assert payload["custNm"] is None
    assert payload["receipt"]["custTin"] is None


@pytest.mark.parametrize("pin", [" P051365947M ", "P051365947M\n", "\tP051365947M", "p051365947m"])
def test_customer_pin_is_sent_normalised(pin: str) -> None:
    # Validation accepts these after normalising, so the payload must send that same 11-character form
    # (custTin is CHAR 11).
    payload = build(make_doc(customer_pin=pin))
    assert payload["custTin"] == "P051365947M"
    assert payload["receipt"]["custTin"] == "P051365947M"


@pytest.mark.parametrize("pin", ["", "   "])
def test_blank_customer_pin_is_sent_as_null(pin: str) -> None:
    payload = build(make_doc(customer_pin=pin))
    assert payload["custTin"] is None
    assert payload["receipt"]["custTin"] is None


def test_payload_is_json_serialisable() -> None:
    for doc in (make_doc(EXAMPLE_B, EXAMPLE_E), make_credit_note()):
        assert json.loads(json.dumps(build(doc)))["invcNo"] == 17
