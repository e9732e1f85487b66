"""Shared helpers of the sandbox tests: the test taxpayer, a small OSCU client and a sample sale."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from etims_pipeline.etims.document import SaleDocument, SaleLine
from etims_pipeline.etims.tax import TaxRates

TIN = "P051365947M"
OTHER_TIN = "A004416331M"
BHF = "00"
SERIAL = "dvcv1130"
ISSUED_AT = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)

MakeSale = Callable[..., dict[str, Any]]


@dataclass
class Oscu:
    """Just enough of an OSCU client to drive the sandbox from tests."""

    http: httpx.Client
    headers: dict[str, str]

    def call(
        self, endpoint: str, body: dict[str, Any], headers: dict[str, str] | None = None, timeout: float = 5
    ) -> dict[str, Any]:
        response = self.http.post(
            f"/etims-api/{endpoint}",
            json=body,
            headers=self.headers if headers is None else headers,
            timeout=timeout,
        )
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    def save(self, payload: dict[str, Any], timeout: float = 5) -> dict[str, Any]:
        return self.call("saveTrnsSalesOsdc", payload, timeout=timeout)

    def lookup(self, invoice_no: int) -> dict[str, Any]:
        return self.call("selectInvoiceDetails", {"tin": TIN, "bhfId": BHF, "invcNo": invoice_no})

    def rates(self) -> TaxRates:
        answer = self.call("selectCodeList", {"tin": TIN, "bhfId": BHF, "lastReqDt": "20200101000000"})
        (tax_class,) = [cls for cls in answer["data"]["clsList"] if cls["cdCls"] == "04"]
        return TaxRates({item["cd"]: Decimal(item["userDfnCd1"]) for item in tax_class["dtlList"]})

    def set_faults(self, plan: Any) -> None:
        self.http.post("/_sandbox/faults", json=plan).raise_for_status()

    def ledger(self) -> dict[str, Any]:
        ledger: dict[str, Any] = self.http.get("/_sandbox/ledger").json()
        return ledger


def init_device(http: httpx.Client, tin: str = TIN, bhf_id: str = BHF, serial: str = SERIAL) -> dict[str, Any]:
    body = {"tin": tin, "bhfId": bhf_id, "dvcSrlNo": serial}
    answer: dict[str, Any] = http.post("/etims-api/selectInitOsdcInfo", json=body).json()
    return answer


def sample_document(receipt_type: str, original: int, reason: str | None) -> SaleDocument:
    def line(code: str, qty: str, price: str, discount: str, band: str) -> SaleLine:
        return SaleLine(
            item_code=code,
            item_class_code="5059690800",
            item_name=f"item {code}",
            quantity=Decimal(qty),
            unit_price=Decimal(price),
            discount_rate=Decimal(discount),
            tax_band=band,
            packaging_unit="NT",
            quantity_unit="U",
        )

    return SaleDocument(
        trader_invoice_no=f"INV-{receipt_type}-{original}",
        receipt_type=receipt_type,
        payment_type="06",
        issued_at=ISSUED_AT,
        customer_pin=OTHER_TIN,
        customer_name="Wanjiku Stores",
        lines=(
            line("KE2NTU0000001", "2", "50.25", "10", "B"),
            line("KE2NTU0000002", "1.5", "199.99", "0", "E"),
            line("KE1NTU0000003", "3", "12.10", "0", "A"),
        ),
        original_invoice_no=original,
        refund_reason=reason,
    )
