"""Fault injection: each kind, `times`, tin matching, latency, the random rate and the control endpoints."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from etims_pipeline.sandbox import SandboxConfig, SandboxServer
from etims_pipeline.sandbox.faults import FaultInjector, FaultKind
from tests.sandbox.sandbox_support import OTHER_TIN, TIN, MakeSale, Oscu

SAVE = "saveTrnsSalesOsdc"


def _rule(fault: str, **extra: Any) -> dict[str, Any]:
    return {"endpoint": SAVE, "fault": fault, **extra}


def test_hang_after_commit_times_out_the_client_but_the_sale_is_recorded(oscu: Oscu, make_sale: MakeSale) -> None:
    oscu.set_faults([_rule("hang_after_commit", hang_seconds=30)])
    with pytest.raises(httpx.ReadTimeout):
        oscu.save(make_sale(11), timeout=0.5)
    found = oscu.lookup(11)
    assert found["resultCd"] == "000"
    assert found["data"]["salesList"][0]["invcNo"] == 11
    resend = oscu.save(make_sale(11))
    assert resend["resultCd"] == "994"
    ledger = oscu.ledger()
    assert ledger["count"] == 1
    assert ledger["save_calls"][0]["calls"] == 2


def test_hang_before_commit_answers_500_and_records_nothing(oscu: Oscu, make_sale: MakeSale) -> None:
    oscu.set_faults([_rule("hang_before_commit", hang_seconds=0.05)])
    response = oscu.http.post(f"/etims-api/{SAVE}", json=make_sale(12), headers=oscu.headers)
    assert response.status_code == 500
    assert oscu.lookup(12)["resultCd"] == "001"
    assert oscu.save(make_sale(12))["resultCd"] == "000"


def test_http_500_is_used_up_after_times_calls(oscu: Oscu, make_sale: MakeSale) -> None:
    oscu.set_faults([_rule("http_500", times=2)])
    statuses = [
        oscu.http.post(f"/etims-api/{SAVE}", json=make_sale(13), headers=oscu.headers).status_code for _ in range(3)
    ]
    assert statuses == [500, 500, 200]
    assert oscu.ledger()["count"] == 1


def test_result_code_injection_and_remaining_uses(oscu: Oscu, make_sale: MakeSale) -> None:
    oscu.set_faults({"rules": [_rule("result_code", result_code="999", times=3)]})
    assert oscu.save(make_sale(14))["resultCd"] == "999"
    remaining = oscu.http.get("/_sandbox/faults").json()["rules"]
    assert [rule["times"] for rule in remaining] == [2]
    assert oscu.lookup(14)["resultCd"] == "001"  # other endpoints are not affected
    assert oscu.ledger()["count"] == 0


def test_a_rule_can_target_one_tin_and_any_endpoint(oscu: Oscu, make_sale: MakeSale) -> None:
    oscu.set_faults([{"endpoint": "*", "fault": "result_code", "result_code": "990", "match_tin": OTHER_TIN}])
    assert oscu.save(make_sale(15))["resultCd"] == "000"
    oscu.set_faults([{"endpoint": "*", "fault": "result_code", "result_code": "990", "match_tin": TIN}])
    assert oscu.lookup(15)["resultCd"] == "990"


def test_latency_delays_every_etims_answer(oscu: Oscu) -> None:
    oscu.set_faults({"latency_ms": 200, "rules": []})
    started = time.monotonic()
    assert oscu.lookup(1)["resultCd"] == "001"
    assert time.monotonic() - started >= 0.2


def test_reset_clears_the_ledger_and_the_faults_but_not_the_devices(oscu: Oscu, make_sale: MakeSale) -> None:
    assert oscu.save(make_sale(16))["resultCd"] == "000"
    oscu.set_faults([_rule("http_500", times=5)])
    oscu.http.post("/_sandbox/reset").raise_for_status()
    assert oscu.ledger() == {"count": 0, "sales": [], "save_calls": []}
    assert oscu.http.get("/_sandbox/faults").json() == {"latency_ms": 0, "rules": []}
    assert oscu.save(make_sale(16))["resultCd"] == "000"


@pytest.mark.parametrize(
    "plan",
    [
        {"rules": [{"fault": "explode"}]},
        [{"fault": "http_500", "times": 0}],
        [{"fault": "http_500", "hang_secs": 1}],
        {"latency_ms": -1},
        "not a plan",
    ],
)
def test_a_malformed_fault_plan_is_refused(http: httpx.Client, plan: Any) -> None:
    response = http.post("/_sandbox/faults", json=plan)
    assert response.status_code == 400
    assert response.json()["error"]


def test_control_endpoints(http: httpx.Client) -> None:
    assert http.get("/_sandbox/health").json() == {"ok": True}
    assert http.get("/nowhere").status_code == 404


def test_shutdown_cuts_an_injected_hang_short(server: SandboxServer, oscu: Oscu, make_sale: MakeSale) -> None:
    oscu.set_faults([_rule("hang_after_commit", hang_seconds=60)])
    with pytest.raises(httpx.ReadTimeout):
        oscu.save(make_sale(17), timeout=0.3)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2


def test_the_random_fault_rate_only_hits_saves() -> None:
    injector = FaultInjector(SandboxConfig(fault_rate=1.0, fault_seed=7, fault_hang_seconds=0.5))
    faults = [injector.take(SAVE, TIN) for _ in range(20)]
    kinds = {fault.fault for fault in faults if fault is not None}
    assert kinds == {FaultKind.HTTP_500, FaultKind.HANG_AFTER_COMMIT}
    assert injector.take("selectInvoiceDetails", TIN) is None
    never = FaultInjector(SandboxConfig(fault_rate=0.0))
    assert all(never.take(SAVE, TIN) is None for _ in range(20))
