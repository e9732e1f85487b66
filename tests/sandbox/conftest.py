"""Fixtures for the sandbox tests: a server on a free port in a background thread and a small OSCU client."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from etims_pipeline.etims.payload import build_sales_payload
from etims_pipeline.etims.tax import TaxRates
from etims_pipeline.sandbox import SandboxConfig, SandboxServer, build_server
from etims_pipeline.sandbox.config import DEFAULT_TAX_RATES
from tests.sandbox.sandbox_support import BHF, ISSUED_AT, TIN, MakeSale, Oscu, init_device, sample_document


@pytest.fixture
def sandbox_config(request: pytest.FixtureRequest) -> SandboxConfig:
    """The default configuration; parametrize indirectly to start the server with another."""
    config: SandboxConfig = getattr(request, "param", SandboxConfig())
    return config


@pytest.fixture
def server(sandbox_config: SandboxConfig) -> Iterator[SandboxServer]:
    srv = build_server("127.0.0.1", 0, sandbox_config)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.stop()
    thread.join(timeout=5)


@pytest.fixture
def http(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=5) as client:
        yield client


@pytest.fixture
def oscu(http: httpx.Client) -> Oscu:
    """A client whose device is installed; its headers carry the issued cmcKey."""
    answer = init_device(http)
    assert answer["resultCd"] == "000", answer
    key = answer["data"]["info"]["cmcKey"]
    return Oscu(http, {"tin": TIN, "bhfId": BHF, "cmcKey": key})


@pytest.fixture
def make_sale() -> MakeSale:
    """Build a saveTrnsSalesOsdc body exactly as the pipeline does (etims.payload)."""

    def make(
        invoice_no: int = 1,
        *,
        receipt_type: str = "S",
        original: int = 0,
        reason: str | None = None,
        rates: TaxRates | None = None,
    ) -> dict[str, Any]:
        return build_sales_payload(
            tin=TIN,
            bhf_id=BHF,
            invoice_no=invoice_no,
            doc=sample_document(receipt_type, original, reason),
            rates=rates or TaxRates(DEFAULT_TAX_RATES),
            confirmed_at=ISSUED_AT,
        )

    return make
