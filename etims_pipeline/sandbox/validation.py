"""Strict validation of a saveTrnsSalesOsdc body, as KRA would do it: every problem names the field.

Bodies are parsed with `parse_float=Decimal`, so amounts are checked to the cent without float noise;
the arithmetic is recomputed from qty, prc and dcRt with the sandbox's own rates (etims.tax rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from etims_pipeline.etims.codes import (
    CREDIT_NOTE_REASONS,
    PAYMENT_TYPES,
    RECEIPT_CREDIT_NOTE,
    RECEIPT_TYPES,
    SALES_STATUS_APPROVED,
    SALES_TYPE_NORMAL,
    TAX_BANDS,
)
from etims_pipeline.etims.money import HUNDRED
from etims_pipeline.etims.tax import ZERO, line_amounts
from etims_pipeline.sandbox.fields import (
    YES_NO,
    amount,
    code,
    date8,
    datetime14,
    integer,
    optional_code,
    optional_text,
    pin,
    present,
    reject,
    required_text,
)

MAX_TRADER_INVOICE_NO = 50


@dataclass(frozen=True)
class SaleRequest:
    """The parts of a validated saveTrnsSalesOsdc request the ledger keeps."""

    tin: str
    bhf_id: str
    invoice_no: int
    trader_invoice_no: str
    receipt_type: str
    original_invoice_no: int
    total_amount: Decimal


def _expect(name: str, given: Decimal, expected: Decimal, why: str) -> None:
    if given != expected:
        raise reject(f"{name} is {given}; expected {expected} ({why})")


def _line_totals(
    index: int, item: Any, rates: Mapping[str, Decimal], taxable: dict[str, Decimal], tax: dict[str, Decimal]
) -> None:
    """Check one itemList entry and add its taxable and tax amounts to its band."""
    where = f"itemList[{index}]"
    if not isinstance(item, dict):
        raise reject(f"{where} must be an object")
    named = {f"{where}.{key}": value for key, value in item.items()}

    def field(key: str) -> str:
        return f"{where}.{key}"

    seq = integer(named, field("itemSeq"), minimum=1)
    if seq != index + 1:
        raise reject(f"{field('itemSeq')} is {seq}; items must be numbered 1..n in order, expected {index + 1}")
    for key in ("itemCd", "itemClsCd", "itemNm", "pkgUnitCd", "qtyUnitCd"):
        required_text(named, field(key))
    optional_text(named, field("bcd"), max_len=20)
    amount(named, field("pkg"))
    band = code(named, field("taxTyCd"), TAX_BANDS)
    qty, prc, dc_rate = (amount(named, field(key)) for key in ("qty", "prc", "dcRt"))
    if qty <= 0:
        raise reject(f"{field('qty')} must be positive, got {qty}")
    if prc < 0:
        raise reject(f"{field('prc')} must not be negative, got {prc}")
    if not ZERO <= dc_rate <= HUNDRED:
        raise reject(f"{field('dcRt')} must be 0-100 percent, got {dc_rate}")
    rate = rates[band]
    expected = line_amounts(qty, prc, dc_rate, rate)
    checks = (
        ("splyAmt", expected.supply, "qty x prc, rounded half-up to 2 places"),
        ("dcAmt", expected.discount, "splyAmt x dcRt / 100, rounded half-up"),
        ("taxblAmt", expected.taxable, "splyAmt - dcAmt"),
        ("taxAmt", expected.tax, f"taxblAmt x {rate}% for band {band}, rounded half-up"),
        ("totAmt", expected.total, "taxblAmt + taxAmt"),
    )
    for key, value, why in checks:
        _expect(field(key), amount(named, field(key)), value, why)
    taxable[band] += expected.taxable
    tax[band] += expected.tax


def _items_and_bands(body: Mapping[str, Any], rates: Mapping[str, Decimal]) -> Decimal:
    """Check itemList, the 15 band fields and the totals; returns totAmt."""
    items = present(body, "itemList")
    if not isinstance(items, list) or not items:
        raise reject("itemList must be a non-empty list")
    count = integer(body, "totItemCnt", minimum=1)
    if count != len(items):
        raise reject(f"totItemCnt is {count} but itemList has {len(items)} items")
    band_fields = {
        name: amount(body, name)
        for prefix in ("taxblAmt", "taxRt", "taxAmt")
        for name in (f"{prefix}{band}" for band in TAX_BANDS)
    }
    totals = {name: amount(body, name) for name in ("totTaxblAmt", "totTaxAmt", "totAmt")}
    taxable = dict.fromkeys(TAX_BANDS, ZERO)
    tax = dict.fromkeys(TAX_BANDS, ZERO)
    for index, item in enumerate(items):
        _line_totals(index, item, rates, taxable, tax)
    for band in TAX_BANDS:
        rate, band_taxable, band_tax = (f"taxRt{band}", f"taxblAmt{band}", f"taxAmt{band}")
        _expect(rate, band_fields[rate], rates[band], f"the code list rate of band {band}")
        _expect(band_taxable, band_fields[band_taxable], taxable[band], "sum of the band's line taxblAmt")
        _expect(band_tax, band_fields[band_tax], tax[band], "sum of the band's line taxAmt")
    total_taxable = sum(taxable.values(), ZERO)
    total_tax = sum(tax.values(), ZERO)
    _expect("totTaxblAmt", totals["totTaxblAmt"], total_taxable, "sum of taxblAmtA..E")
    _expect("totTaxAmt", totals["totTaxAmt"], total_tax, "sum of taxAmtA..E")
    _expect("totAmt", totals["totAmt"], total_taxable + total_tax, "totTaxblAmt + totTaxAmt")
    return totals["totAmt"]


def _receipt(body: Mapping[str, Any]) -> None:
    receipt = present(body, "receipt")
    if not isinstance(receipt, dict):
        raise reject("receipt must be an object")
    named = {f"receipt.{key}": value for key, value in receipt.items()}
    datetime14(named, "receipt.rcptPbctDt")
    pin(named, "receipt.custTin")
    optional_code(named, "receipt.prchrAcptcYn", YES_NO)


def validate_sale(body: Mapping[str, Any], rates: Mapping[str, Decimal]) -> SaleRequest:
    """Check a saveTrnsSalesOsdc body field by field; raises RejectedError (910/913) naming the field."""
    tin = required_text(body, "tin")
    bhf_id = required_text(body, "bhfId")
    trader_invoice_no = required_text(body, "trdInvcNo", max_len=MAX_TRADER_INVOICE_NO)
    invoice_no = integer(body, "invcNo", minimum=1)
    original_invoice_no = integer(body, "orgInvcNo", minimum=0)
    pin(body, "custTin")
    optional_text(body, "custNm", max_len=60)
    code(body, "salesTyCd", (SALES_TYPE_NORMAL,))
    receipt_type = code(body, "rcptTyCd", RECEIPT_TYPES)
    code(body, "pmtTyCd", tuple(PAYMENT_TYPES))
    code(body, "salesSttsCd", (SALES_STATUS_APPROVED,))
    datetime14(body, "cfmDt")
    date8(body, "salesDt")
    for name in ("stockRlsDt", "cnclReqDt", "cnclDt", "rfdDt"):
        datetime14(body, name, required=False)
    optional_code(body, "prchrAcptcYn", YES_NO)
    optional_text(body, "remark", max_len=400)
    for name in ("regrId", "regrNm"):
        required_text(body, name, max_len=20)
    for name in ("modrId", "modrNm"):
        optional_text(body, name, max_len=20)
    if receipt_type == RECEIPT_CREDIT_NOTE:
        if original_invoice_no < 1:
            raise reject("orgInvcNo must name the original sale's invcNo for a credit note (rcptTyCd R)")
        if body.get("rfdRsnCd") is None:
            raise reject("rfdRsnCd is required for a credit note (rcptTyCd R)")
        code(body, "rfdRsnCd", tuple(CREDIT_NOTE_REASONS))
    _receipt(body)
    total_amount = _items_and_bands(body, rates)
    return SaleRequest(
        tin=tin,
        bhf_id=bhf_id,
        invoice_no=invoice_no,
        trader_invoice_no=trader_invoice_no,
        receipt_type=receipt_type,
        original_invoice_no=original_invoice_no,
        total_amount=total_amount,
    )
