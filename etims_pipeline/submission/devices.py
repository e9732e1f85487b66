"""An org's eTIMS device: its stored credentials, or a one-time initialisation that stores the cmcKey.

The key is registered with the log redactor the moment it is read and only ever travels inside `Secret`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from etims_pipeline.etims.client import DeviceCredentials, EtimsClient, EtimsTransportError
from etims_pipeline.etims.codes import DEVICE_INSTALLED, SUCCESS
from etims_pipeline.etims.secret import Secret
from etims_pipeline.nairobi_time import now_utc
from etims_pipeline.observability.logging import register_secret
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.models import VendorOrg
from etims_pipeline.submission.guard import GuardDecision, OrgSnapshot

REASON_DEVICE = "device_not_initialised"


@contextmanager
def device_init_lock(engine: Engine, org_id: int) -> Iterator[VendorOrg]:
    """The org row, locked (FOR UPDATE on PostgreSQL) for the whole device initialisation and committed after.

    Two overlapping runs (a replay and the daily run) never both call selectInitOsdcInfo for one org: the
    second waits, then finds the cmcKey the first stored, instead of an "already installed" answer.
    """
    with session_scope(engine) as session:
        org = session.get(VendorOrg, org_id, with_for_update=True, populate_existing=True)
        if org is None:
            raise LookupError(f"org {org_id} does not exist")
        yield org


def store_device(org: VendorOrg, cmc_key: str, sdc_id: str | None, mrc_no: str | None) -> None:
    """Record the device eTIMS initialised, on the row held by `device_init_lock`."""
    org.cmc_key, org.sdc_id, org.mrc_no, org.updated_at = cmc_key, sdc_id, mrc_no, now_utc()


def known_device(org: OrgSnapshot, bhf_id: str, cmc_key: str) -> DeviceCredentials:
    register_secret(cmc_key)
    return DeviceCredentials(org.kra_pin or "", bhf_id, Secret(cmc_key))


def device_credentials(
    store: Engine, client: EtimsClient, org: OrgSnapshot, *, bhf_id: str, serial: str, cmc_key: str | None
) -> DeviceCredentials | GuardDecision:
    """The org's device credentials, initialising the device with eTIMS the first time."""
    if cmc_key:
        return known_device(org, bhf_id, cmc_key)
    with device_init_lock(store, org.org_id) as device:
        if device.cmc_key:  # an overlapping run initialised it while this one waited for the lock
            return known_device(org, bhf_id, device.cmc_key)
        try:
            response = client.init_device(org.kra_pin or "", bhf_id, serial)
        except EtimsTransportError as exc:
            return _device_problem(org, "DEVICE_INIT_FAILED", f"device init could not reach eTIMS: {exc}")
        if response.result_code == SUCCESS:
            info = (response.data or {}).get("info") or {}
            key = str(info.get("cmcKey") or "")
            if not key:
                return _device_problem(org, "DEVICE_INIT_FAILED", "device init answered without a cmcKey")
            store_device(device, key, info.get("sdcId"), info.get("mrcNo"))
            return known_device(org, bhf_id, key)
    if response.result_code == DEVICE_INSTALLED:
        return _device_problem(
            org,
            "DEVICE_ALREADY_INSTALLED",
            f"eTIMS says device {serial!r} is already installed but no cmcKey is stored for org {org.org_id}; "
            "load the org with its cmc_key, or ask KRA to reset the device",
        )
    return _device_problem(
        org,
        f"DEVICE_INIT_{response.result_code}",
        f"device init refused: {response.result_code} {response.result_message} (check bhf_id and device_serial)",
    )


def _device_problem(org: OrgSnapshot, code: str, message: str) -> GuardDecision:
    return GuardDecision(passed=False, code=code, reason=REASON_DEVICE, message=f"{code}: org {org.org_id}: {message}")
