"""Fault injection: the misbehaviours of a congested eTIMS that the pipeline's retry logic must survive.

A fault plan (POST /_sandbox/faults) is `{"latency_ms": 0, "rules": [rule, ...]}` (a bare list of rules is
also accepted, with no latency). A rule is
  {"endpoint": "saveTrnsSalesOsdc" | "*", "fault": KIND, "times": 1, "result_code": "999",
   "hang_seconds": 5.0, "match_tin": null}
and applies to the next `times` matching calls, then is used up; the first rule that matches wins. Kinds:
  http_500            answer HTTP 500 at once, nothing processed
  hang_before_commit  wait hang_seconds, then HTTP 500, nothing processed
  hang_after_commit   process the call (a save is committed), wait hang_seconds, then answer normally
  result_code         answer HTTP 200 with resultCd = result_code, nothing processed
Besides the plan, a seeded random rate (CLI only) turns some saves into http_500 or hang_after_commit.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from etims_pipeline.sandbox.config import SandboxConfig

ANY_ENDPOINT = "*"
SAVE_ENDPOINT = "saveTrnsSalesOsdc"


class FaultKind(StrEnum):
    HTTP_500 = "http_500"
    HANG_BEFORE_COMMIT = "hang_before_commit"
    HANG_AFTER_COMMIT = "hang_after_commit"
    RESULT_CODE = "result_code"


class FaultPlanError(ValueError):
    """The posted fault plan is malformed; the message says which rule and field."""


@dataclass(frozen=True)
class FaultRule:
    endpoint: str
    fault: FaultKind
    times: int = 1
    result_code: str = "999"
    hang_seconds: float = 5.0
    match_tin: str | None = None

    def matches(self, endpoint: str, tin: str | None) -> bool:
        endpoint_ok = self.endpoint in (ANY_ENDPOINT, endpoint)
        return endpoint_ok and (self.match_tin is None or self.match_tin == tin)

    def as_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "fault": self.fault.value,
            "times": self.times,
            "result_code": self.result_code,
            "hang_seconds": self.hang_seconds,
            "match_tin": self.match_tin,
        }


@dataclass(frozen=True)
class FaultPlan:
    rules: tuple[FaultRule, ...] = ()
    latency_ms: int = 0


def _number(rule: dict[str, Any], name: str, default: float, where: str) -> float:
    value = rule.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FaultPlanError(f"{where}.{name} must be a non-negative number, got {value!r}")
    return float(value)


def _parse_rule(rule: Any, where: str) -> FaultRule:
    if not isinstance(rule, dict):
        raise FaultPlanError(f"{where} must be an object")
    unknown = set(rule) - {"endpoint", "fault", "times", "result_code", "hang_seconds", "match_tin"}
    if unknown:
        raise FaultPlanError(f"{where} has unknown fields: {', '.join(sorted(unknown))}")
    endpoint = rule.get("endpoint", ANY_ENDPOINT)
    if not isinstance(endpoint, str) or not endpoint:
        raise FaultPlanError(f"{where}.endpoint must be an endpoint name or '*'")
    try:
        kind = FaultKind(str(rule.get("fault")))
    except ValueError:
        kinds = ", ".join(kind.value for kind in FaultKind)
        raise FaultPlanError(f"{where}.fault must be one of {kinds}, got {rule.get('fault')!r}") from None
    times = rule.get("times", 1)
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise FaultPlanError(f"{where}.times must be a positive integer, got {times!r}")
    result_code = rule.get("result_code", "999")
    if not (isinstance(result_code, str) and result_code):
        raise FaultPlanError(f"{where}.result_code must be a string such as '999'")
    match_tin = rule.get("match_tin")
    if match_tin is not None and not isinstance(match_tin, str):
        raise FaultPlanError(f"{where}.match_tin must be a KRA PIN or null")
    return FaultRule(
        endpoint=endpoint,
        fault=kind,
        times=times,
        result_code=result_code,
        hang_seconds=_number(rule, "hang_seconds", 5.0, where),
        match_tin=match_tin,
    )


def parse_plan(document: Any) -> FaultPlan:
    if isinstance(document, list):
        document = {"rules": document}
    if not isinstance(document, dict):
        raise FaultPlanError("a fault plan is an object {latency_ms, rules} or a list of rules")
    rules = document.get("rules", [])
    if not isinstance(rules, list):
        raise FaultPlanError("rules must be a list")
    latency = _number(document, "latency_ms", 0, "plan")
    return FaultPlan(
        rules=tuple(_parse_rule(rule, f"rules[{index}]") for index, rule in enumerate(rules)),
        latency_ms=int(latency),
    )


class FaultInjector:
    """The current plan and the random fault source; thread-safe, so `times` is exact under concurrency."""

    def __init__(self, config: SandboxConfig) -> None:
        self._lock = threading.Lock()
        self._baseline = FaultPlan(latency_ms=config.latency_ms)
        self._plan = self._baseline
        self._rate = config.fault_rate
        self._random_hang = config.fault_hang_seconds
        self._random = random.Random(config.fault_seed)

    def set_plan(self, plan: FaultPlan) -> None:
        with self._lock:
            self._plan = plan

    def reset(self) -> None:
        """Back to the start-up settings: no rules, the CLI's latency."""
        with self._lock:
            self._plan = self._baseline

    def current(self) -> FaultPlan:
        with self._lock:
            return self._plan

    def take(self, endpoint: str, tin: str | None) -> FaultRule | None:
        """The fault for this call, if any, spending one use of the rule that supplies it."""
        with self._lock:
            rules = list(self._plan.rules)
            for index, rule in enumerate(rules):
                if rule.matches(endpoint, tin):
                    if rule.times > 1:
                        rules[index] = replace(rule, times=rule.times - 1)
                    else:
                        del rules[index]
                    self._plan = replace(self._plan, rules=tuple(rules))
                    return rule
            if endpoint == SAVE_ENDPOINT and self._rate > 0 and self._random.random() < self._rate:
                kind = self._random.choice((FaultKind.HTTP_500, FaultKind.HANG_AFTER_COMMIT))
                return FaultRule(endpoint=endpoint, fault=kind, hang_seconds=self._random_hang)
            return None
