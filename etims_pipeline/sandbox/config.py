"""Start-up settings of the sandbox: the key secret, the tax rates it publishes, pre-registered devices."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

DEFAULT_SECRET = "etims-sandbox-dev-secret"  # dev only: anyone can derive keys from it
SECRET_ENV_VAR = "ETIMS_SANDBOX_SECRET"
DEFAULT_TAX_RATES: dict[str, Decimal] = {
    "A": Decimal(0),
    "B": Decimal(16),
    "C": Decimal(0),
    "D": Decimal(0),
    "E": Decimal(8),
}


@dataclass(frozen=True)
class Device:
    """One OSCU device: a taxpayer PIN, a 2-character branch id and the serial KRA approved."""

    tin: str
    bhf_id: str
    serial: str


@dataclass(frozen=True)
class SandboxConfig:
    secret: str = DEFAULT_SECRET
    tax_rates: dict[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_TAX_RATES))
    latency_ms: int = 0  # delay before every eTIMS answer until a fault plan sets another
    fault_rate: float = 0.0  # share of saves answered with a random http_500 or hang_after_commit
    fault_seed: int | None = None
    fault_hang_seconds: float = 5.0  # how long a random hang_after_commit holds the answer
    devices: tuple[Device, ...] = ()  # installed at start-up, so their keys work after a restart
