"""The HTTP face of the sandbox: OSCU calls under /etims-api/, control calls under /_sandbox/.

POST /etims-api/<endpoint>  OSCU JSON call; HTTP 200 {resultCd, resultMsg, resultDt, data} (912 if unknown)
GET  /_sandbox/health       {"ok": true}
GET  /_sandbox/ledger       accepted sales and the save calls received per (tin, bhfId, invcNo)
GET  /_sandbox/faults       the fault plan in force, with the uses left on each rule
POST /_sandbox/faults       replace the fault plan (shape in `faults`)
POST /_sandbox/reset        forget sales, counters, save calls and the fault plan (devices stay installed)
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from etims_pipeline.etims.money import json_number
from etims_pipeline.nairobi_time import format_etims_datetime, now_utc
from etims_pipeline.sandbox.api import Answer, Sandbox
from etims_pipeline.sandbox.config import SandboxConfig
from etims_pipeline.sandbox.faults import SAVE_ENDPOINT, FaultKind, FaultPlanError, parse_plan
from etims_pipeline.sandbox.fields import RejectedError, parse_body

API_PREFIX = "/etims-api/"
logger = logging.getLogger("etims_pipeline.sandbox")


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.host = address[0]
        super().__init__(address, _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}{API_PREFIX}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout) before an injected hang ended is expected, not an error."""
        logger.debug("connection from %s ended abruptly", client_address, exc_info=True)

    def stop(self) -> None:
        """Wake injected sleeps, stop serve_forever (call from another thread) and close the socket."""
        self.sandbox.stopping.set()
        self.shutdown()
        self.server_close()


def _ledger_json(sandbox: Sandbox) -> dict[str, Any]:
    sales, save_calls = sandbox.ledger.snapshot()
    return {
        "count": len(sales),
        "sales": [
            {
                "tin": accepted.sale.tin,
                "bhfId": accepted.sale.bhf_id,
                "invcNo": accepted.sale.invoice_no,
                "trdInvcNo": accepted.sale.trader_invoice_no,
                "rcptTyCd": accepted.sale.receipt_type,
                "totAmt": json_number(accepted.sale.total_amount),
                "curRcptNo": accepted.receipt.current_receipt_no,
                "totRcptNo": accepted.receipt.total_receipt_no,
                "accepted_at": accepted.receipt.signed_at.isoformat(),
            }
            for accepted in sales
        ],
        "save_calls": [
            {"tin": tin, "bhfId": bhf_id, "invcNo": invoice_no, "calls": calls}
            for (tin, bhf_id, invoice_no), calls in save_calls.items()
        ],
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle on, the body waited for the client's delayed ACK on a
    # kept-alive connection (~40 ms per answer, measured: 64 ms per save at a 20 ms latency setting).
    disable_nagle_algorithm = True
    server: SandboxServer

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_json(self, status: HTTPStatus, document: Any) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _send_answer(self, answer: Answer) -> None:
        envelope = {
            "resultCd": answer.result_code,
            "resultMsg": answer.message,
            "resultDt": format_etims_datetime(now_utc()),
            "data": answer.data,
        }
        self._send_json(HTTPStatus.OK, envelope)

    def do_GET(self) -> None:
        self._read_body()
        path = urlsplit(self.path).path
        sandbox = self.server.sandbox
        if path.startswith(API_PREFIX):
            self._send_answer(Answer("912", f"request method error: use POST for {path}"))
        elif path == "/_sandbox/health":
            self._send_json(HTTPStatus.OK, {"ok": True})
        elif path == "/_sandbox/ledger":
            self._send_json(HTTPStatus.OK, _ledger_json(sandbox))
        elif path == "/_sandbox/faults":
            plan = sandbox.faults.current()
            rules = [rule.as_json() for rule in plan.rules]
            self._send_json(HTTPStatus.OK, {"latency_ms": plan.latency_ms, "rules": rules})
        else:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no such path: {path}"})

    def do_POST(self) -> None:
        raw = self._read_body()
        path = urlsplit(self.path).path
        sandbox = self.server.sandbox
        if path.startswith(API_PREFIX):
            self._etims_call(path.removeprefix(API_PREFIX).strip("/"), raw)
        elif path == "/_sandbox/faults":
            try:
                sandbox.faults.set_plan(parse_plan(json.loads(raw or b"null")))
            except (ValueError, FaultPlanError) as exc:
                self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
                return
            self._send_json(HTTPStatus.OK, {"ok": True})
        elif path == "/_sandbox/reset":
            sandbox.ledger.reset()
            sandbox.faults.reset()
            self._send_json(HTTPStatus.OK, {"ok": True})
        else:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no such path: {path}"})

    def _etims_call(self, endpoint: str, raw: bytes) -> None:
        sandbox = self.server.sandbox
        headers = {name.lower(): value for name, value in self.headers.items()}
        sandbox.stopping.wait(sandbox.faults.current().latency_ms / 1000)
        if endpoint not in sandbox.endpoints:
            self._send_answer(Answer("912", f"request method error: unknown endpoint {endpoint!r}"))
            return
        try:
            body = parse_body(raw)
        except RejectedError as rejected:
            self._send_answer(Answer(rejected.result_code, rejected.message))
            return
        tin, bhf_id, invoice_no = body.get("tin"), body.get("bhfId"), body.get("invcNo")
        if endpoint == SAVE_ENDPOINT and isinstance(tin, str) and isinstance(bhf_id, str) and type(invoice_no) is int:
            sandbox.ledger.count_save_call(tin, bhf_id, invoice_no)  # counted before any fault or check
        fault = sandbox.faults.take(endpoint, headers.get("tin", body.get("tin")))
        if fault is None:
            self._send_answer(sandbox.answer(endpoint, headers, body))
        elif fault.fault is FaultKind.HTTP_500:
            self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "injected fault: http_500"})
        elif fault.fault is FaultKind.HANG_BEFORE_COMMIT:
            sandbox.stopping.wait(fault.hang_seconds)
            self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "injected fault: hang_before_commit"})
        elif fault.fault is FaultKind.RESULT_CODE:
            self._send_answer(Answer(fault.result_code, "injected fault: result_code"))
        else:
            answer = sandbox.answer(endpoint, headers, body)
            sandbox.stopping.wait(fault.hang_seconds)
            self._send_answer(answer)


def build_server(host: str, port: int, config: SandboxConfig) -> SandboxServer:
    """Bind (port 0 picks a free port, see `.port`); call serve_forever() to start answering."""
    return SandboxServer((host, port), Sandbox(config))


def serve_forever(server: SandboxServer) -> None:
    """Serve until SIGTERM or SIGINT, then stop promptly (injected hangs are cut short)."""
    stop = threading.Event()

    def _request_stop(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="etims-sandbox", daemon=True
    )
    thread.start()
    try:
        stop.wait()
    finally:
        server.stop()
        thread.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
