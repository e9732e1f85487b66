"""Build the saveTrnsSalesOsdc request (TrnsSalesSaveWrReq) field by field.

Every band field A–E is always present (zeros included); dates are Nairobi time; money is 2-place Decimal
turned into JSON numbers only here. The cmcKey is never part of the body: it travels in the header only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from etims_pipeline.etims.codes import SALES_STATUS_APPROVED, SALES_TYPE_NORMAL, TAX_BANDS
from etims_pipeline.etims.document import SaleDocument
from etims_pipeline.etims.money import json_number
from etims_pipeline.etims.pin import normalize_pin
from etims_pipeline.etims.tax import TaxRates
from etims_pipeline.nairobi_time import format_etims_date, format_etims_datetime

REGISTRAR_ID = "etims_pipeline"


def _items(doc: SaleDocument, rates: TaxRates) -> list[dict[str, Any]]:
    items = []
    for seq, line in enumerate(doc.lines, start=1):
        amounts = line.amounts(rates)
        items.append(
            {
                "itemSeq": seq,
                "itemCd": line.item_code,
                "itemClsCd": line.item_class_code,
                "itemNm": line.item_name,
                "bcd": line.barcode,
                "pkgUnitCd": line.packaging_unit,
                "pkg": json_number(line.quantity),
                "qtyUnitCd": line.quantity_unit,
                "qty": json_number(line.quantity),
                "prc": json_number(line.unit_price),
                "splyAmt": json_number(amounts.supply),
                "dcRt": json_number(line.discount_rate),
                "dcAmt": json_number(amounts.discount),
                "isrccCd": None,
                "isrccNm": None,
                "isrcRt": None,
                "isrcAmt": None,
                "taxTyCd": line.tax_band,
                "taxblAmt": json_number(amounts.taxable),
                "taxAmt": json_number(amounts.tax),
                "totAmt": json_number(amounts.total),
            }
        )
    return items


def build_sales_payload(
    *,
    tin: str,
    bhf_id: str,
    invoice_no: int,
    doc: SaleDocument,
    rates: TaxRates,
    confirmed_at: datetime,
    trade_name: str | None = None,
) -> dict[str, Any]:
    totals = doc.totals(rates)
    issued = format_etims_datetime(doc.issued_at)
    customer_pin = normalize_pin(doc.customer_pin) or None
    payload: dict[str, Any] = {
        "tin": tin,
        "bhfId": bhf_id,
        "trdInvcNo": doc.trader_invoice_no,
        "invcNo": invoice_no,
        "orgInvcNo": doc.original_invoice_no if doc.is_credit_note else 0,
        "custTin": customer_pin,
        "custNm": doc.customer_name or None,
        "salesTyCd": SALES_TYPE_NORMAL,
        "rcptTyCd": doc.receipt_type,
        "pmtTyCd": doc.payment_type,
        "salesSttsCd": SALES_STATUS_APPROVED,
        "cfmDt": format_etims_datetime(confirmed_at),
        "salesDt": format_etims_date(doc.issued_at),
        "stockRlsDt": issued,
        "cnclReqDt": None,
        "cnclDt": None,
        "rfdDt": issued if doc.is_credit_note else None,
        "rfdRsnCd": doc.refund_reason if doc.is_credit_note else None,
        "totItemCnt": len(doc.lines),
    }
    for band in TAX_BANDS:
        payload[f"taxblAmt{band}"] = json_number(totals.taxable_by_band[band])
    for band in TAX_BANDS:
        payload[f"taxRt{band}"] = json_number(totals.rate_by_band[band])
    for band in TAX_BANDS:
        payload[f"taxAmt{band}"] = json_number(totals.tax_by_band[band])
    payload.update(
        {
            "totTaxblAmt": json_number(totals.total_taxable),
            "totTaxAmt": json_number(totals.total_tax),
            "totAmt": json_number(totals.total_amount),
            "prchrAcptcYn": "N",
            "remark": doc.remark,
            "regrId": REGISTRAR_ID,
            "regrNm": REGISTRAR_ID,
            "modrId": REGISTRAR_ID,
            "modrNm": REGISTRAR_ID,
            "receipt": {
                "custTin": customer_pin,
                "custMblNo": None,
                "rptNo": invoice_no,
                "trdeNm": trade_name,
                "adrs": None,
                "topMsg": None,
                "btmMsg": None,
                "prchrAcptcYn": "N",
                "rcptPbctDt": issued,
            },
            "itemList": _items(doc, rates),
        }
    )
    return payload
