"""Device installation, header authentication and the tax-rate code list."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from etims_pipeline.sandbox import SandboxConfig
from etims_pipeline.sandbox.config import DEFAULT_TAX_RATES, Device
from etims_pipeline.sandbox.devices import DeviceRegistry, derive_cmc_key
from tests.sandbox.sandbox_support import BHF, OTHER_TIN, SERIAL, TIN, MakeSale, Oscu, init_device


def test_first_init_issues_the_derived_key_and_reinit_answers_902(http: httpx.Client) -> None:
    first = init_device(http)
    assert first["resultCd"] == "000"
    info = first["data"]["info"]
    assert info["tin"] == TIN
    assert info["bhfId"] == BHF
    assert info["sdcId"].startswith("KRACU")
    assert len(info["sdcId"]) == 15
    assert {"taxprNm", "bhfNm", "dvcId", "mrcNo"} <= set(info)
    assert info["cmcKey"] == derive_cmc_key(SandboxConfig().secret, Device(TIN, BHF, SERIAL))
    again = init_device(http)
    assert again["resultCd"] == "902"
    assert again["resultMsg"] == "This device is installed"
    assert again["data"] is None


def test_unapproved_serial_is_not_a_valid_device(http: httpx.Client) -> None:
    assert init_device(http, serial="UNAPPROVED-7")["resultCd"] == "901"


@pytest.mark.parametrize(
    ("tin", "bhf_id", "serial", "field"),
    [("P05136594", BHF, SERIAL, "tin"), (TIN, "000", SERIAL, "bhfId"), (TIN, BHF, "x" * 101, "dvcSrlNo")],
)
def test_init_rejects_malformed_identity(http: httpx.Client, tin: str, bhf_id: str, serial: str, field: str) -> None:
    answer = init_device(http, tin=tin, bhf_id=bhf_id, serial=serial)
    assert answer["resultCd"] == "910"
    assert field in answer["resultMsg"]


def test_keys_survive_a_restart_with_the_same_secret() -> None:
    """A registry built anew (a restarted sandbox) accepts the key once the device is known again."""
    device = Device(TIN, BHF, SERIAL)
    key = derive_cmc_key("s3cret", device)
    assert DeviceRegistry("s3cret").authenticate(TIN, BHF, key) is None
    assert DeviceRegistry("s3cret", (device,)).authenticate(TIN, BHF, key) == device
    assert DeviceRegistry("other", (device,)).authenticate(TIN, BHF, key) is None
    assert DeviceRegistry("s3cret", (device,)).authenticate(OTHER_TIN, BHF, key) is None


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"tin": TIN, "bhfId": BHF}, "900"),
        ({"tin": TIN, "cmcKey": "abc"}, "900"),
        ({"tin": TIN, "bhfId": BHF, "cmcKey": "0" * 64}, "901"),
        ({"tin": TIN, "bhfId": "01", "cmcKey": "use-the-real-key"}, "901"),
    ],
)
def test_calls_after_init_need_the_device_headers(
    oscu: Oscu, make_sale: MakeSale, headers: dict[str, str], code: str
) -> None:
    if headers.get("cmcKey") == "use-the-real-key":
        headers = {**headers, "cmcKey": oscu.headers["cmcKey"]}
    assert oscu.call("saveTrnsSalesOsdc", make_sale(), headers=headers)["resultCd"] == code
    assert oscu.ledger()["count"] == 0


def test_header_names_are_case_insensitive(oscu: Oscu, make_sale: MakeSale) -> None:
    headers = {"TIN": TIN, "bhfid": BHF, "CmcKey": oscu.headers["cmcKey"]}
    assert oscu.call("saveTrnsSalesOsdc", make_sale(), headers=headers)["resultCd"] == "000"


def test_code_list_publishes_the_default_rates(oscu: Oscu) -> None:
    answer = oscu.call("selectCodeList", {"tin": TIN, "bhfId": BHF, "lastReqDt": "20200101000000"})
    assert answer["resultCd"] == "000"
    (tax_class,) = answer["data"]["clsList"]
    names = {item["cd"]: item["cdNm"] for item in tax_class["dtlList"]}
    rates = {item["cd"]: item["userDfnCd1"] for item in tax_class["dtlList"]}
    assert names == {"A": "A-Exempt", "B": "B-16.00%", "C": "C-0%", "D": "D-Non-VAT", "E": "E-8%"}
    assert rates == {"A": "0", "B": "16", "C": "0", "D": "0", "E": "8"}


@pytest.mark.parametrize(
    "sandbox_config", [SandboxConfig(tax_rates={**DEFAULT_TAX_RATES, "E": Decimal(10)})], indirect=True
)
def test_sales_must_use_the_rates_from_the_code_list(oscu: Oscu, make_sale: MakeSale) -> None:
    rates = oscu.rates()
    assert rates.rate("E") == Decimal(10)
    hard_coded = oscu.save(make_sale(1))
    assert hard_coded["resultCd"] == "910"
    assert "taxAmt" in hard_coded["resultMsg"]
    assert oscu.save(make_sale(2, rates=rates))["resultCd"] == "000"
