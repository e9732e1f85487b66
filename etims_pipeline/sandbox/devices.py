"""Device installation and communication keys (cmcKey).

Rule: the cmcKey of a device is HMAC-SHA256(secret, "tin|bhfId|serial") in hex, so the same device always
gets the same key, across sandbox restarts. A request's cmcKey is accepted iff it is the key of a device
installed for the request's (tin, bhfId): installed by `selectInitOsdcInfo` since start-up or registered at
start-up (`--device TIN:BHF:SERIAL`). After a restart, a client keeps working once its device is
re-initialised (the answer is 000 again, with the same key) or pre-registered.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass

from etims_pipeline.sandbox.config import Device


def derive_cmc_key(secret: str, device: Device) -> str:
    message = f"{device.tin}|{device.bhf_id}|{device.serial}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _digits(secret: str, label: str, device: Device, width: int) -> str:
    """Deterministic decimal identifiers for a device, unrelated to its key."""
    message = f"{label}|{device.tin}|{device.bhf_id}|{device.serial}".encode()
    number = int(hmac.new(secret.encode(), message, hashlib.sha256).hexdigest(), 16)
    return str(number % 10**width).zfill(width)


@dataclass(frozen=True)
class DeviceIdentity:
    """What KRA tells a device at installation, besides its key."""

    dvc_id: str
    sdc_id: str
    mrc_no: str


def device_identity(secret: str, device: Device) -> DeviceIdentity:
    return DeviceIdentity(
        dvc_id=_digits(secret, "dvc", device, 10),
        sdc_id="KRACU" + _digits(secret, "sdc", device, 10),
        mrc_no="WIS" + _digits(secret, "mrc", device, 8),
    )


class DeviceRegistry:
    """The installed devices; thread-safe. A reset of the ledger does not uninstall devices."""

    def __init__(self, secret: str, preinstalled: tuple[Device, ...] = ()) -> None:
        self._secret = secret
        self._lock = threading.Lock()
        self._keys: dict[str, Device] = {}
        for device in preinstalled:
            self.install(device)

    def install(self, device: Device) -> bool:
        """Install the device; False when it was already installed (eTIMS answers 902 then)."""
        key = derive_cmc_key(self._secret, device)
        with self._lock:
            if key in self._keys:
                return False
            self._keys[key] = device
            return True

    def authenticate(self, tin: str, bhf_id: str, cmc_key: str) -> Device | None:
        """The installed device of (tin, bhf_id) whose key this is, or None."""
        with self._lock:
            device = self._keys.get(cmc_key)
        if device is None or device.tin != tin or device.bhf_id != bhf_id:
            return None
        return device
