"""The OSCU HTTP client against httpx.MockTransport: headers, bodies, result codes as values, transport errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from etims_pipeline.etims.client import (
    DeviceCredentials,
    EtimsClient,
    EtimsConnectError,
    EtimsResponse,
    EtimsServerError,
    EtimsTimeout,
    EtimsTransportError,
    Receipt,
    make_http_client,
    parse_receipt,
    parse_tax_rates,
    receipt_time,
)
from etims_pipeline.etims.codes import ResultKind, classify_result
from etims_pipeline.etims.secret import Secret

BASE_URL = "https://etims-api-sbx.kra.go.ke/etims-api/"
KEY = "cmc-key-3F9A1B7C2D"
CREDENTIALS = DeviceCredentials(tin="P051365947M", bhf_id="01", cmc_key=Secret(KEY))
OK = {"resultCd": "000", "resultMsg": "It is succeeded", "resultDt": "20261124013001", "data": None}

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that records requests and answers with a fixed response."""

    def __init__(self, response: httpx.Response | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.response = response or httpx.Response(200, json=OK)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.response

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def last_body(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.last.content)
        return body


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(recorder: Recorder) -> Iterator[EtimsClient]:
    with httpx.Client(base_url=BASE_URL, transport=httpx.MockTransport(recorder)) as http:
        yield EtimsClient(http)


def client_for(handler: Handler) -> EtimsClient:
    return EtimsClient(httpx.Client(base_url=BASE_URL, transport=httpx.MockTransport(handler)))


def raising(exc_type: type[httpx.TransportError], text: str = "boom") -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type(text, request=request)

    return handler


# ---- requests -------------------------------------------------------------------------------------


def test_authenticated_calls_send_tin_branch_and_key_headers(client: EtimsClient, recorder: Recorder) -> None:
    client.save_sales(CREDENTIALS, {"invcNo": 1})
    headers = recorder.last.headers
    assert headers["tin"] == "P051365947M"
    assert headers["bhfId"] == "01"
    assert headers["cmcKey"] == KEY


def test_save_sales_posts_the_payload_as_json(client: EtimsClient, recorder: Recorder) -> None:
    payload = {"invcNo": 7, "totAmt": 1234.56, "itemList": [{"itemSeq": 1}], "custTin": None}
    client.save_sales(CREDENTIALS, payload)
    assert recorder.last.method == "POST"
    assert recorder.last.url == "https://etims-api-sbx.kra.go.ke/etims-api/saveTrnsSalesOsdc"
    assert recorder.last.headers["content-type"] == "application/json"
    assert recorder.last_body() == payload
    assert b"1234.56" in recorder.last.content


def test_init_device_sends_no_key(client: EtimsClient, recorder: Recorder) -> None:
    client.init_device("P051365947M", "00", "dvcv1130")
    assert recorder.last.url.path == "/etims-api/selectInitOsdcInfo"
    assert recorder.last_body() == {"tin": "P051365947M", "bhfId": "00", "dvcSrlNo": "dvcv1130"}
    assert "cmcKey" not in recorder.last.headers
    assert "tin" not in recorder.last.headers


def test_select_code_list_body(client: EtimsClient, recorder: Recorder) -> None:
    client.select_code_list(CREDENTIALS)
    assert recorder.last.url.path == "/etims-api/selectCodeList"
    assert recorder.last_body() == {"tin": "P051365947M", "bhfId": "01", "lastReqDt": "20000101000000"}
    client.select_code_list(CREDENTIALS, last_request="20261124013000")
    assert recorder.last_body()["lastReqDt"] == "20261124013000"


def test_select_invoice_body(client: EtimsClient, recorder: Recorder) -> None:
    client.select_invoice(CREDENTIALS, 478)
    assert recorder.last.url.path == "/etims-api/selectInvoiceDetails"
    assert recorder.last_body() == {"tin": "P051365947M", "bhfId": "01", "invcNo": 478}
    assert recorder.last.headers["cmcKey"] == KEY


@pytest.mark.parametrize(
    "base_url", ["https://etims-api.kra.go.ke/etims-api", "https://etims-api.kra.go.ke/etims-api/"]
)
def test_make_http_client_joins_endpoints_under_the_base_path(
    base_url: str, monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    def mock_transport(retries: int) -> httpx.BaseTransport:
        assert retries == 2
        return httpx.MockTransport(recorder)

    monkeypatch.setattr(httpx, "HTTPTransport", mock_transport)
    with make_http_client(base_url, timeout_seconds=30, connect_timeout_seconds=5, max_connections=4) as http:
        assert str(http.base_url) == "https://etims-api.kra.go.ke/etims-api/"
        assert http.timeout.read == 30
        assert http.timeout.connect == 5
        EtimsClient(http).save_sales(CREDENTIALS, {"invcNo": 1})
    assert recorder.last.url == "https://etims-api.kra.go.ke/etims-api/saveTrnsSalesOsdc"
    assert recorder.last.headers["user-agent"] == "etims_pipeline"
    assert recorder.last.headers["content-type"] == "application/json"
    assert recorder.last.headers["cmcKey"] == KEY


# ---- answers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result_code", "kind"),
    [
        ("000", ResultKind.ACCEPTED),
        ("001", ResultKind.NOT_FOUND),
        ("910", ResultKind.REJECTED),
        ("994", ResultKind.DUPLICATE),
        ("999", ResultKind.TRANSIENT),
        (" 000 ", ResultKind.ACCEPTED),
        (0, ResultKind.ACCEPTED),
        (910, ResultKind.REJECTED),
    ],
)
def test_result_codes_come_back_as_values(result_code: object, kind: ResultKind) -> None:
    answer = {"resultCd": result_code, "resultMsg": "message", "resultDt": "20261124013001", "data": {"x": 1}}
    response = client_for(lambda _: httpx.Response(200, json=answer)).save_sales(CREDENTIALS, {})
    assert response.result_code == str(result_code).strip()
    assert classify_result(response.result_code).kind is kind
    assert response.result_message == "message"
    assert response.result_dt == "20261124013001"
    assert response.data == {"x": 1}
    assert response.http_status == 200
    assert response.latency_seconds >= 0


@pytest.mark.parametrize("data", [None, [], "text", 5])
def test_non_object_data_becomes_none(data: object) -> None:
    answer = {"resultCd": "001", "resultMsg": None, "data": data}
    response = client_for(lambda _: httpx.Response(200, json=answer)).select_invoice(CREDENTIALS, 1)
    assert response.data is None
    assert response.result_message == ""
    assert response.result_dt is None


@pytest.mark.parametrize("exc_type", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
def test_connection_failures_were_certainly_not_sent(exc_type: type[httpx.TransportError]) -> None:
    with pytest.raises(EtimsConnectError) as caught:
        client_for(raising(exc_type)).save_sales(CREDENTIALS, {})
    assert caught.value.possibly_sent is False
    assert caught.value.http_status is None
    assert exc_type.__name__ in str(caught.value)


@pytest.mark.parametrize("exc_type", [httpx.ReadTimeout, httpx.WriteTimeout])
def test_timeouts_may_have_been_sent(exc_type: type[httpx.TransportError]) -> None:
    with pytest.raises(EtimsTimeout) as caught:
        client_for(raising(exc_type)).save_sales(CREDENTIALS, {})
    assert caught.value.possibly_sent is True
    assert exc_type.__name__ in str(caught.value)


@pytest.mark.parametrize("exc_type", [httpx.RemoteProtocolError, httpx.ReadError])
def test_mid_request_failures_may_have_been_sent(exc_type: type[httpx.TransportError]) -> None:
    with pytest.raises(EtimsServerError) as caught:
        client_for(raising(exc_type)).save_sales(CREDENTIALS, {})
    assert caught.value.possibly_sent is True


@pytest.mark.parametrize("exc_type", [httpx.ConnectError, httpx.ReadTimeout, httpx.RemoteProtocolError])
def test_transport_errors_do_not_carry_the_original_text(exc_type: type[httpx.TransportError]) -> None:
    with pytest.raises(EtimsTransportError) as caught:
        client_for(raising(exc_type, f"failed with headers cmcKey={KEY}")).save_sales(CREDENTIALS, {})
    assert KEY not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__ is True
    assert caught.value.latency_seconds >= 0


@pytest.mark.parametrize("status", [500, 502, 503, 404, 400])
def test_http_error_status_is_a_server_error(status: int) -> None:
    handler = lambda _: httpx.Response(status, json=OK)  # noqa: E731  (a 5xx with a success body still fails)
    with pytest.raises(EtimsServerError, match=f"HTTP {status}") as caught:
        client_for(handler).save_sales(CREDENTIALS, {})
    assert caught.value.http_status == status
    assert caught.value.possibly_sent is True


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html>Bad gateway</html>", "not JSON"),
        (b"", "not JSON"),
        (b"\xff\xfe\xfa", "not JSON"),
        (b"[]", "no resultCd"),
        (b'"000"', "no resultCd"),
        (b'{"resultMsg": "ok", "data": {}}', "no resultCd"),
    ],
)
def test_unusable_bodies_are_server_errors(content: bytes, message: str) -> None:
    handler: Handler = lambda _: httpx.Response(200, content=content)  # noqa: E731
    with pytest.raises(EtimsServerError, match=message) as caught:
        client_for(handler).save_sales(CREDENTIALS, {})
    assert caught.value.http_status == 200
    assert caught.value.possibly_sent is True


# ---- receipts -------------------------------------------------------------------------------------


def test_parse_receipt_from_a_save_answer_with_stray_spaces() -> None:
    data = {
        "curRcptNo ": "478344 ",
        "totRcptNo ": " 478350",
        "intrlData": "WDRZ4TNEFQGDKAPF6NFKZG7S2I",
        "rcptSign": "IJ5HWRQ5QSEYVDQX",
        "sdcDateTime": "20261124013000",
    }
    receipt = parse_receipt(data)
    assert receipt == Receipt(
        receipt_no=478344,
        total_receipt_no=478350,
        internal_data="WDRZ4TNEFQGDKAPF6NFKZG7S2I",
        signature="IJ5HWRQ5QSEYVDQX",
        sdc_datetime="20261124013000",
    )
    assert receipt_time(receipt) == datetime(2026, 11, 23, 22, 30, tzinfo=UTC)


def test_parse_receipt_from_a_lookup_sales_list() -> None:
    data = {
        "salesList": [
            {
                "invcNo": 478,
                "receipt": {
                    "curRcptNo ": 12,
                    "totRcptNo": "40",
                    "intrlData": "INTERNAL",
                    "rcptSign": "SIGNATURE0000001",
                    "sdcDateTime": "2026-11-24 01:30:00.250000",
                },
            },
            {"receipt": {"curRcptNo": 99}},
        ]
    }
    receipt = parse_receipt(data)
    assert (receipt.receipt_no, receipt.total_receipt_no) == (12, 40)
    assert receipt.signature == "SIGNATURE0000001"
    assert receipt.internal_data == "INTERNAL"
    assert receipt_time(receipt) == datetime(2026, 11, 23, 22, 30, 0, 250000, tzinfo=UTC)


def test_parse_receipt_from_a_flat_lookup_row_without_fraction() -> None:
    data = {
        "salesList": [{"curRcptNo": "5", "totRcptNo": "6", "rcptSign": "S", "sdcDateTime": " 2026-11-24 00:00:00 "}]
    }
    receipt = parse_receipt(data)
    assert receipt.receipt_no == 5
    assert receipt.sdc_datetime == "2026-11-24 00:00:00"
    assert receipt_time(receipt) == datetime(2026, 11, 23, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "data",
    [None, {}, {"salesList": []}, {"curRcptNo": "", "totRcptNo": "  ", "sdcDateTime": ""}],
)
def test_parse_receipt_of_nothing_is_all_none(data: dict[str, Any] | None) -> None:
    receipt = parse_receipt(data)
    assert receipt == Receipt(None, None, None, None, None)
    assert receipt_time(receipt) is None


def test_receipt_as_json_uses_etims_names() -> None:
    receipt = Receipt(1, 2, "INT", "SIG", "20261124013000")
    assert receipt.as_json() == {
        "curRcptNo": 1,
        "totRcptNo": 2,
        "intrlData": "INT",
        "rcptSign": "SIG",
        "sdcDateTime": "20261124013000",
    }
    assert parse_receipt(receipt.as_json()) == receipt


# ---- tax rates ------------------------------------------------------------------------------------


def code_list_response(classes: list[dict[str, Any]] | None) -> EtimsResponse:
    data = None if classes is None else {"clsList": classes}
    return EtimsResponse("000", "ok", None, data, 200, 0.01)


def test_parse_tax_rates_reads_class_04() -> None:
    response = code_list_response(
        [
            {"cdCls": "05", "dtlList": [{"cd": "S", "userDfnCd1": "99"}]},
            {
                "cdCls": " 04 ",
                "dtlList": [
                    {"cd": "A", "cdNm": "A-Exempt", "userDfnCd1": "0"},
                    {"cd": "B", "cdNm": "B-16.00%", "userDfnCd1": 16},
                    {"cd": "C", "cdNm": "C-0%", "userDfnCd1": "0.00"},
                    {"cd": "D", "cdNm": "D-Non-VAT", "userDfnCd1": 0},
                    {"cd": "E ", "cdNm": "E-8%", "userDfnCd1": "8"},
                ],
            },
            {"cdCls": "07", "dtlList": [{"cd": "01", "userDfnCd1": "1"}]},
        ]
    )
    rates = parse_tax_rates(response)
    assert dict(rates.by_band) == {
        "A": Decimal(0),
        "B": Decimal(16),
        "C": Decimal(0),
        "D": Decimal(0),
        "E": Decimal(8),
    }
    assert rates.missing_bands() == []
    assert rates.rate("B") == Decimal(16)


@pytest.mark.parametrize("classes", [None, [], [{"cdCls": "04", "dtlList": None}], [{"cdCls": "05"}]])
def test_parse_tax_rates_without_class_04_is_empty(classes: list[dict[str, Any]] | None) -> None:
    rates = parse_tax_rates(code_list_response(classes))
    assert dict(rates.by_band) == {}
    assert rates.missing_bands() == ["A", "B", "C", "D", "E"]


@pytest.mark.parametrize("bad", [None, "sixteen", "NaN"])
def test_parse_tax_rates_rejects_an_unreadable_rate_naming_the_band(bad: object) -> None:
    response = code_list_response([{"cdCls": "04", "dtlList": [{"cd": "B", "userDfnCd1": bad}]}])
    with pytest.raises(ValueError, match="tax rate of band B"):
        parse_tax_rates(response)


def test_tax_rates_fetched_over_http_drive_the_code_list_call() -> None:
    answer = {
        "resultCd": "000",
        "resultMsg": "ok",
        "data": {"clsList": [{"cdCls": "04", "dtlList": [{"cd": "B", "userDfnCd1": "16"}]}]},
    }
    response = client_for(lambda _: httpx.Response(200, json=answer)).select_code_list(CREDENTIALS)
    assert parse_tax_rates(response).rate("B") == Decimal(16)
