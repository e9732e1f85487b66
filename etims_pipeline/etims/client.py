"""HTTP client for the OSCU endpoints the pipeline uses, over one pooled `httpx.Client`.

Business answers (`resultCd`) come back as `EtimsResponse` values. Transport failures raise
`EtimsTransportError` subclasses that say whether the request may have reached eTIMS: a connect
failure certainly did not, a read timeout or a 5xx may have, and the submission engine must then look
the invoice up before any resend. Headers carry `tin`, `bhfId` and `cmcKey`; the key is never logged.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from etims_pipeline.etims.codes import TAX_TYPE_CODE_CLASS
from etims_pipeline.etims.money import to_decimal
from etims_pipeline.etims.secret import Secret
from etims_pipeline.etims.tax import TaxRates
from etims_pipeline.nairobi_time import parse_etims_datetime

INIT_DEVICE = "selectInitOsdcInfo"
SELECT_CODE_LIST = "selectCodeList"
SAVE_SALES = "saveTrnsSalesOsdc"
SELECT_INVOICE = "selectInvoiceDetails"


class EtimsTransportError(Exception):
    """The call did not produce an eTIMS answer."""

    possibly_sent = True

    def __init__(self, message: str, latency_seconds: float, http_status: int | None = None) -> None:
        super().__init__(message)
        self.latency_seconds = latency_seconds
        self.http_status = http_status


class EtimsConnectError(EtimsTransportError):
    """The request never left: safe to send again."""

    possibly_sent = False


class EtimsTimeout(EtimsTransportError):
    """No answer in time; eTIMS may have committed the sale."""


class EtimsServerError(EtimsTransportError):
    """HTTP error status or an unparseable body; eTIMS may have committed the sale."""


@dataclass(frozen=True)
class DeviceCredentials:
    tin: str
    bhf_id: str
    cmc_key: Secret

    def headers(self) -> dict[str, str]:
        return {"tin": self.tin, "bhfId": self.bhf_id, "cmcKey": self.cmc_key.reveal()}


@dataclass(frozen=True)
class EtimsResponse:
    result_code: str
    result_message: str
    result_dt: str | None
    data: dict[str, Any] | None
    http_status: int
    latency_seconds: float


@dataclass(frozen=True)
class Receipt:
    """What eTIMS returns for an accepted sale; stored immediately ("early capture")."""

    receipt_no: int | None
    total_receipt_no: int | None
    internal_data: str | None
    signature: str | None
    sdc_datetime: str | None

    def as_json(self) -> dict[str, object]:
        return {
            "curRcptNo": self.receipt_no,
            "totRcptNo": self.total_receipt_no,
            "intrlData": self.internal_data,
            "rcptSign": self.signature,
            "sdcDateTime": self.sdc_datetime,
        }


def _clean_keys(data: dict[str, Any]) -> dict[str, Any]:
    # The spec's samples carry stray spaces in keys such as "curRcptNo ".
    return {str(key).strip(): value for key, value in data.items()}


def _int_or_none(value: object) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return int(str(value).strip())


def parse_receipt(data: dict[str, Any] | None) -> Receipt:
    """Read a receipt from a save answer's `data` or a lookup's `salesList[0]`."""
    fields = _clean_keys(data or {})
    if fields.get("salesList"):
        fields = _clean_keys(fields["salesList"][0])
    nested = fields.get("receipt")
    if isinstance(nested, dict):
        fields = {**fields, **_clean_keys(nested)}
    sdc = fields.get("sdcDateTime")
    return Receipt(
        receipt_no=_int_or_none(fields.get("curRcptNo")),
        total_receipt_no=_int_or_none(fields.get("totRcptNo")),
        internal_data=fields.get("intrlData"),
        signature=fields.get("rcptSign"),
        sdc_datetime=str(sdc).strip() if sdc else None,
    )


def receipt_time(receipt: Receipt) -> datetime | None:
    """The sdcDateTime as an aware UTC datetime, whichever of the two formats eTIMS used."""
    return parse_etims_datetime(receipt.sdc_datetime) if receipt.sdc_datetime else None


def parse_tax_rates(response: EtimsResponse) -> TaxRates:
    """Tax band rates from a selectCodeList answer (class 04, rate in userDfnCd1)."""
    classes = (response.data or {}).get("clsList") or []
    rates: dict[str, Decimal] = {}
    for code_class in classes:
        if str(code_class.get("cdCls", "")).strip() != TAX_TYPE_CODE_CLASS:
            continue
        for entry in code_class.get("dtlList") or []:
            band = str(entry.get("cd", "")).strip()
            rates[band] = to_decimal(entry.get("userDfnCd1"), f"tax rate of band {band}")
    return TaxRates(rates)


class EtimsClient:
    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def call(self, endpoint: str, body: dict[str, Any], credentials: DeviceCredentials | None) -> EtimsResponse:
        headers = credentials.headers() if credentials else {}
        started = time.perf_counter()
        try:
            answer = self._http.post(endpoint, json=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise EtimsConnectError(
                f"could not connect to eTIMS ({type(exc).__name__})", time.perf_counter() - started
            ) from None
        except httpx.TimeoutException as exc:
            raise EtimsTimeout(
                f"eTIMS did not answer in time ({type(exc).__name__})", time.perf_counter() - started
            ) from None
        except httpx.TransportError as exc:
            raise EtimsServerError(
                f"connection to eTIMS failed mid-request ({type(exc).__name__})",
                time.perf_counter() - started,
            ) from None
        latency = time.perf_counter() - started
        if answer.status_code >= 400:
            raise EtimsServerError(f"eTIMS answered HTTP {answer.status_code}", latency, answer.status_code)
        try:
            document = answer.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise EtimsServerError("eTIMS answered with a body that is not JSON", latency, answer.status_code) from None
        if not isinstance(document, dict) or "resultCd" not in document:
            raise EtimsServerError("eTIMS answer has no resultCd", latency, answer.status_code)
        data = document.get("data")
        return EtimsResponse(
            result_code=str(document["resultCd"]).strip(),
            result_message=str(document.get("resultMsg") or ""),
            result_dt=document.get("resultDt"),
            data=data if isinstance(data, dict) else None,
            http_status=answer.status_code,
            latency_seconds=latency,
        )

    def init_device(self, tin: str, bhf_id: str, device_serial: str) -> EtimsResponse:
        return self.call(INIT_DEVICE, {"tin": tin, "bhfId": bhf_id, "dvcSrlNo": device_serial}, None)

    def select_code_list(self, credentials: DeviceCredentials, last_request: str = "20000101000000") -> EtimsResponse:
        body = {"tin": credentials.tin, "bhfId": credentials.bhf_id, "lastReqDt": last_request}
        return self.call(SELECT_CODE_LIST, body, credentials)

    def save_sales(self, credentials: DeviceCredentials, payload: dict[str, Any]) -> EtimsResponse:
        return self.call(SAVE_SALES, payload, credentials)

    def select_invoice(self, credentials: DeviceCredentials, invoice_no: int) -> EtimsResponse:
        body = {"tin": credentials.tin, "bhfId": credentials.bhf_id, "invcNo": invoice_no}
        return self.call(SELECT_INVOICE, body, credentials)


def make_http_client(
    base_url: str, *, timeout_seconds: float, connect_timeout_seconds: float, max_connections: int
) -> httpx.Client:
    """One pooled client per run; transport-level retries only for connection failures."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    return httpx.Client(
        base_url=base,
        timeout=httpx.Timeout(timeout_seconds, connect=connect_timeout_seconds),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        transport=httpx.HTTPTransport(retries=2),
        headers={"Content-Type": "application/json", "User-Agent": "etims_pipeline"},
    )
