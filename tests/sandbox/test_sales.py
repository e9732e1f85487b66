"""saveTrnsSalesOsdc validation, receipts, duplicates, credit notes and selectInvoiceDetails."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from etims_pipeline.nairobi_time import parse_etims_datetime
from tests.sandbox.sandbox_support import BHF, OTHER_TIN, MakeSale, Oscu

Mutation = Callable[[dict[str, Any]], None]


def test_a_sale_built_by_the_pipeline_is_accepted_with_a_receipt(oscu: Oscu, make_sale: MakeSale) -> None:
    answer = oscu.save(make_sale(1))
    assert answer["resultCd"] == "000", answer["resultMsg"]
    assert re.fullmatch(r"\d{14}", answer["resultDt"])
    data = answer["data"]
    assert data["curRcptNo"] == 1
    assert data["totRcptNo"] == 1
    assert len(data["intrlData"]) == 26
    assert len(data["rcptSign"]) == 16
    assert re.fullmatch(r"\d{14}", data["sdcDateTime"])
    second = oscu.save(make_sale(2))["data"]
    assert (second["curRcptNo"], second["totRcptNo"]) == (2, 2)


def _parent(payload: dict[str, Any], path: str) -> tuple[Any, str]:
    """The container holding the last part of a dotted path such as itemList.0.taxAmt, and that key."""
    *parents, last = path.split(".")
    target: Any = payload
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    return target, last


def _set(path: str, value: Any) -> Mutation:
    def mutate(payload: dict[str, Any]) -> None:
        target, key = _parent(payload, path)
        target[key] = value

    return mutate


def _delete(name: str) -> Mutation:
    return lambda payload: payload.pop(name)


def _nudge(path: str, delta: float) -> Mutation:
    def mutate(payload: dict[str, Any]) -> None:
        target, key = _parent(payload, path)
        target[key] = round(target[key] + delta, 2)

    return mutate


@pytest.mark.parametrize(
    ("mutate", "code", "field"),
    [
        pytest.param(_delete("taxAmtC"), "910", "taxAmtC", id="missing-band-field"),
        pytest.param(_delete("taxRtA"), "910", "taxRtA", id="missing-band-rate"),
        pytest.param(_delete("trdInvcNo"), "910", "trdInvcNo", id="missing-trader-number"),
        pytest.param(_set("invcNo", "1"), "910", "invcNo", id="invoice-number-as-text"),
        pytest.param(_set("cfmDt", "20250230120000"), "910", "cfmDt", id="impossible-date"),
        pytest.param(_set("salesDt", "2025-03-14"), "910", "salesDt", id="sales-date-format"),
        pytest.param(_set("stockRlsDt", "2025031412"), "910", "stockRlsDt", id="short-datetime"),
        pytest.param(_set("receipt.rcptPbctDt", "20251314000000"), "910", "receipt.rcptPbctDt", id="receipt-date"),
        pytest.param(_nudge("itemList.0.taxAmt", 0.01), "910", "itemList[0].taxAmt", id="line-tax"),
        pytest.param(_nudge("itemList.1.splyAmt", -0.01), "910", "itemList[1].splyAmt", id="line-supply"),
        pytest.param(_nudge("itemList.0.dcAmt", 0.01), "910", "itemList[0].dcAmt", id="line-discount"),
        pytest.param(_nudge("taxblAmtB", 1), "910", "taxblAmtB", id="band-taxable-sum"),
        pytest.param(_nudge("totAmt", 0.01), "910", "totAmt", id="grand-total"),
        pytest.param(_set("taxRtE", 16), "910", "taxRtE", id="wrong-rate"),
        pytest.param(_set("itemList.0.prc", 50.255), "910", "itemList[0].prc", id="three-decimals"),
        pytest.param(_set("totItemCnt", 2), "910", "totItemCnt", id="item-count"),
        pytest.param(_set("itemList.1.itemSeq", 3), "910", "itemList[1].itemSeq", id="item-sequence"),
        pytest.param(_set("custTin", "P05136594"), "910", "custTin", id="bad-customer-pin"),
        pytest.param(_set("receipt.custTin", "X051365947M"), "910", "receipt.custTin", id="bad-receipt-pin"),
        pytest.param(_set("tin", OTHER_TIN), "910", "tin", id="body-tin-differs-from-header"),
        pytest.param(_set("bhfId", "01"), "910", "bhfId", id="body-branch-differs-from-header"),
        pytest.param(_set("itemList.0.taxTyCd", "F"), "913", "itemList[0].taxTyCd", id="bad-tax-type"),
        pytest.param(_set("pmtTyCd", "08"), "913", "pmtTyCd", id="bad-payment-type"),
        pytest.param(_set("rcptTyCd", "P"), "913", "rcptTyCd", id="bad-receipt-type"),
        pytest.param(_set("salesSttsCd", "01"), "913", "salesSttsCd", id="bad-sales-status"),
        pytest.param(_set("salesTyCd", "T"), "913", "salesTyCd", id="bad-sales-type"),
    ],
)
def test_each_rule_rejects_with_its_code_and_names_the_field(
    oscu: Oscu, make_sale: MakeSale, mutate: Mutation, code: str, field: str
) -> None:
    payload = make_sale(1)
    mutate(payload)
    answer = oscu.save(payload)
    assert answer["resultCd"] == code, answer["resultMsg"]
    assert field in answer["resultMsg"]
    assert answer["data"] is None
    assert oscu.ledger()["count"] == 0


def test_a_reused_invoice_number_is_overlapped_data(oscu: Oscu, make_sale: MakeSale) -> None:
    assert oscu.save(make_sale(7))["resultCd"] == "000"
    again = oscu.save(make_sale(7))
    assert again["resultCd"] == "994"
    assert "overlapped data" in again["resultMsg"]
    ledger = oscu.ledger()
    assert ledger["count"] == 1
    assert ledger["save_calls"] == [{"tin": oscu.headers["tin"], "bhfId": BHF, "invcNo": 7, "calls": 2}]


def test_concurrent_saves_of_one_number_are_accepted_once(oscu: Oscu, make_sale: MakeSale) -> None:
    results: list[str] = []
    barrier = threading.Barrier(6)

    def send() -> None:
        with httpx.Client(base_url=oscu.http.base_url, headers=oscu.headers, timeout=5) as client:
            barrier.wait()
            answer = client.post("/etims-api/saveTrnsSalesOsdc", json=make_sale(3)).json()
            results.append(answer["resultCd"])

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["000"] + ["994"] * 5


def test_a_credit_note_for_an_accepted_sale_is_accepted(oscu: Oscu, make_sale: MakeSale) -> None:
    assert oscu.save(make_sale(1))["resultCd"] == "000"
    answer = oscu.save(make_sale(2, receipt_type="R", original=1, reason="06"))
    assert answer["resultCd"] == "000", answer["resultMsg"]
    assert (answer["data"]["curRcptNo"], answer["data"]["totRcptNo"]) == (1, 2)


@pytest.mark.parametrize(
    ("credit_note", "code", "field"),
    [
        pytest.param({"original": 99, "reason": "06"}, "910", "orgInvcNo", id="unknown-original"),
        pytest.param({"original": 1, "reason": None}, "910", "rfdRsnCd", id="missing-reason"),
        pytest.param({"original": 1, "reason": "09"}, "913", "rfdRsnCd", id="bad-reason"),
    ],
)
def test_credit_note_rules(oscu: Oscu, make_sale: MakeSale, credit_note: dict[str, Any], code: str, field: str) -> None:
    assert oscu.save(make_sale(1))["resultCd"] == "000"
    answer = oscu.save(make_sale(2, receipt_type="R", **credit_note))
    assert answer["resultCd"] == code
    assert field in answer["resultMsg"]


def test_lookup_finds_an_accepted_sale_with_the_other_date_format(oscu: Oscu, make_sale: MakeSale) -> None:
    payload = make_sale(5)
    saved = oscu.save(payload)["data"]
    answer = oscu.lookup(5)
    assert answer["resultCd"] == "000"
    (sale,) = answer["data"]["salesList"]
    assert sale["invcNo"] == 5
    assert sale["trdInvcNo"] == payload["trdInvcNo"]
    assert sale["totAmt"] == payload["totAmt"]
    for key in ("curRcptNo", "totRcptNo", "intrlData", "rcptSign"):
        assert sale[key] == saved[key]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", sale["sdcDateTime"])
    looked_up = parse_etims_datetime(sale["sdcDateTime"]).replace(microsecond=0)
    assert looked_up == parse_etims_datetime(saved["sdcDateTime"])


def test_lookup_of_an_unknown_invoice_is_no_search_result(oscu: Oscu) -> None:
    answer = oscu.lookup(42)
    assert answer["resultCd"] == "001"
    assert answer["data"] is None


@pytest.mark.parametrize(
    ("method", "path", "content", "code"),
    [
        ("POST", "/etims-api/saveTrnsSales", b"{}", "912"),
        ("GET", "/etims-api/saveTrnsSalesOsdc", b"", "912"),
        ("POST", "/etims-api/saveTrnsSalesOsdc", b"", "911"),
        ("POST", "/etims-api/saveTrnsSalesOsdc", b"{not json", "910"),
        ("POST", "/etims-api/saveTrnsSalesOsdc", b"[1, 2]", "910"),
        ("POST", "/etims-api/saveTrnsSalesOsdc", b'{"totAmt": NaN}', "910"),
    ],
)
def test_malformed_calls(oscu: Oscu, method: str, path: str, content: bytes, code: str) -> None:
    response = oscu.http.request(method, path, content=content, headers=oscu.headers)
    assert response.status_code == 200
    assert response.json()["resultCd"] == code
