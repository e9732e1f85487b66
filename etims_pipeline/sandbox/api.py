"""The OSCU endpoints the sandbox answers, over its state (devices, ledger, faults); no HTTP here.

Each endpoint takes the request headers (names lower-cased) and the parsed JSON body and returns an
`Answer` (resultCd, resultMsg, data); the server adds resultDt and the HTTP framing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from etims_pipeline.etims.codes import TAX_BANDS, TAX_TYPE_CODE_CLASS
from etims_pipeline.etims.money import json_number
from etims_pipeline.etims.pin import is_valid_kra_pin
from etims_pipeline.nairobi_time import format_etims_datetime, now_utc, to_nairobi
from etims_pipeline.sandbox.config import Device, SandboxConfig
from etims_pipeline.sandbox.devices import DeviceRegistry, derive_cmc_key, device_identity
from etims_pipeline.sandbox.faults import SAVE_ENDPOINT, FaultInjector
from etims_pipeline.sandbox.fields import RejectedError, datetime14, integer, reject, required_text
from etims_pipeline.sandbox.ledger import Ledger
from etims_pipeline.sandbox.validation import validate_sale

Headers = Mapping[str, str]
LOOKUP_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
UNAPPROVED_SERIAL_PREFIX = "UNAPPROVED"
MAX_SERIAL = 100


@dataclass(frozen=True)
class Answer:
    result_code: str
    message: str
    data: Any = None


def _rate_text(rate: Decimal) -> str:
    return format(rate.normalize(), "f")


class Sandbox:
    """The state of one sandbox server and the endpoints that read and change it."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.devices = DeviceRegistry(config.secret, config.devices)
        self.ledger = Ledger()
        self.faults = FaultInjector(config)
        self.stopping = threading.Event()  # set on shutdown; wakes every injected sleep
        self.endpoints: dict[str, Callable[[Headers, dict[str, Any]], Answer]] = {
            "selectInitOsdcInfo": self.init_device,
            "selectCodeList": self.code_list,
            SAVE_ENDPOINT: self.save_sale,
            "selectInvoiceDetails": self.invoice_details,
        }

    def init_device(self, headers: Headers, body: dict[str, Any]) -> Answer:
        tin = required_text(body, "tin", max_len=11)
        if not is_valid_kra_pin(tin):
            raise reject(f"tin {tin!r} is not a valid KRA PIN (letter, 9 digits, letter)")
        bhf_id = required_text(body, "bhfId")
        if len(bhf_id) != 2:
            raise reject(f"bhfId must be 2 characters, got {bhf_id!r}")
        serial = required_text(body, "dvcSrlNo", max_len=MAX_SERIAL)
        if serial.startswith(UNAPPROVED_SERIAL_PREFIX):
            raise reject(f"not a valid device: serial {serial!r} is not approved for {tin}/{bhf_id}", "901")
        device = Device(tin, bhf_id, serial)
        if not self.devices.install(device):
            return Answer("902", "This device is installed")
        identity = device_identity(self.config.secret, device)
        info = {
            "tin": tin,
            "taxprNm": f"Sandbox Taxpayer {tin}",
            "bhfId": bhf_id,
            "bhfNm": "Headquarter" if bhf_id == "00" else f"Branch {bhf_id}",
            "dvcId": identity.dvc_id,
            "sdcId": identity.sdc_id,
            "mrcNo": identity.mrc_no,
            "cmcKey": derive_cmc_key(self.config.secret, device),
        }
        return Answer("000", "It is succeeded", {"info": info})

    def authenticate(self, headers: Headers, body: dict[str, Any]) -> Device:
        """Header auth of every call after init: 900 missing header, 901 bad key, 910 body/header mismatch."""
        values = {name: headers.get(name.lower(), "").strip() for name in ("tin", "bhfId", "cmcKey")}
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise reject(f"no header information: {', '.join(missing)} missing", "900")
        device = self.devices.authenticate(values["tin"], values["bhfId"], values["cmcKey"])
        if device is None:
            raise reject(
                f"not a valid device: cmcKey is not the key of a device installed for "
                f"tin {values['tin']} bhfId {values['bhfId']}",
                "901",
            )
        for name in ("tin", "bhfId"):
            if body.get(name) != values[name]:
                raise reject(f"{name} in the body ({body.get(name)!r}) differs from the {name} header")
        return device

    def code_list(self, headers: Headers, body: dict[str, Any]) -> Answer:
        self.authenticate(headers, body)
        datetime14(body, "lastReqDt")
        rates = self.config.tax_rates
        names = {
            "A": "A-Exempt",
            "B": f"B-{rates['B']:.2f}%",
            "C": f"C-{_rate_text(rates['C'])}%",
            "D": "D-Non-VAT",
            "E": f"E-{_rate_text(rates['E'])}%",
        }
        details = [
            {
                "cd": band,
                "cdNm": names[band],
                "srtOrd": order,
                "useYn": "Y",
                "userDfnCd1": _rate_text(rates[band]),
            }
            for order, band in enumerate(TAX_BANDS, start=1)
        ]
        tax_class = {
            "cdCls": TAX_TYPE_CODE_CLASS,
            "cdClsNm": "Taxation Type",
            "useYn": "Y",
            "dtlList": details,
        }
        return Answer("000", "It is succeeded", {"clsList": [tax_class]})

    def save_sale(self, headers: Headers, body: dict[str, Any]) -> Answer:
        device = self.authenticate(headers, body)
        sale = validate_sale(body, self.config.tax_rates)
        receipt = self.ledger.commit(sale, device, now_utc())
        data = {
            "curRcptNo": receipt.current_receipt_no,
            "totRcptNo": receipt.total_receipt_no,
            "intrlData": receipt.internal_data,
            "rcptSign": receipt.signature,
            "sdcDateTime": format_etims_datetime(receipt.signed_at),
        }
        return Answer("000", "It is succeeded", data)

    def invoice_details(self, headers: Headers, body: dict[str, Any]) -> Answer:
        device = self.authenticate(headers, body)
        invoice_no = integer(body, "invcNo", minimum=1)
        found = self.ledger.find(device.tin, device.bhf_id, invoice_no)
        if found is None:
            return Answer("001", "There is no search result")
        receipt = found.receipt
        sale = {
            "invcNo": found.sale.invoice_no,
            "trdInvcNo": found.sale.trader_invoice_no,
            "rcptTyCd": found.sale.receipt_type,
            "totAmt": json_number(found.sale.total_amount),
            "curRcptNo": receipt.current_receipt_no,
            "totRcptNo": receipt.total_receipt_no,
            "intrlData": receipt.internal_data,
            "rcptSign": receipt.signature,
            "sdcDateTime": to_nairobi(receipt.signed_at).strftime(LOOKUP_DATETIME_FORMAT),
        }
        return Answer("000", "It is succeeded", {"salesList": [sale]})

    def answer(self, endpoint: str, headers: Headers, body: dict[str, Any]) -> Answer:
        try:
            return self.endpoints[endpoint](headers, body)
        except RejectedError as rejected:
            return Answer(rejected.result_code, rejected.message)
