"""`load orgs`: upsert vendor organisations by their stable id.

A changed row updates the org (how an operator fixes a KRA PIN or a tax status); `verified_at` is set
when the org becomes VERIFIED. A row without `cmc_key` never erases the key the device initialisation
stored.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select

from etims_pipeline.loading.jsonl import SourceRow, parse_batch, read_batches
from etims_pipeline.loading.report import LoadReport
from etims_pipeline.loading.rows import OrgRow, parse_org
from etims_pipeline.nairobi_time import now_utc
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.models import TaxStatus, VendorOrg

ROW_DUPLICATE = "ROW_DUPLICATE"
_ORG_FIELDS = ("name", "kra_pin", "tax_status", "bhf_id", "device_serial", "cmc_key")


def _wanted(row: OrgRow) -> dict[str, str | None]:
    values = {name: getattr(row, name) for name in _ORG_FIELDS}
    if row.cmc_key is None:
        del values["cmc_key"]  # keep the key device initialisation stored
    return values


def _new_org(row: OrgRow, now: datetime) -> VendorOrg:
    verified_at = now if row.tax_status == TaxStatus.VERIFIED else None
    return VendorOrg(id=row.id, **_wanted(row), verified_at=verified_at, created_at=now, updated_at=now)


def _update(org: VendorOrg, row: OrgRow, now: datetime) -> bool:
    """Apply the row's changed fields to `org`; False when nothing differs."""
    changes = {name: value for name, value in _wanted(row).items() if getattr(org, name) != value}
    if not changes:
        return False
    if changes.get("tax_status") == TaxStatus.VERIFIED:
        org.verified_at = now
    for name, value in changes.items():
        setattr(org, name, value)
    org.updated_at = now
    return True


def _load_batch(
    engine: Engine, batch: list[SourceRow], seen: dict[int, tuple[int, OrgRow]], report: LoadReport
) -> None:
    parsed = parse_batch(batch, parse_org, report)
    if not parsed:
        return
    now = now_utc()
    with session_scope(engine) as session:
        ids = [row.id for _, row in parsed]
        stored = {org.id: org for org in session.scalars(select(VendorOrg).where(VendorOrg.id.in_(ids)))}
        for line, row in parsed:
            earlier = seen.get(row.id)
            if earlier is not None and earlier[1] != row:
                message = f"org {row.id} is on line {earlier[0]} with different content; give each org one row"
                report.reject(line, ROW_DUPLICATE, message)
                continue
            seen.setdefault(row.id, (line, row))
            org = stored.get(row.id)
            if org is None:
                stored[row.id] = _new_org(row, now)
                session.add(stored[row.id])
                report.inserted += 1
            elif _update(org, row, now):
                report.updated += 1
            else:
                report.unchanged += 1


def load_orgs_file(engine: Engine, path: Path) -> LoadReport:
    """Upsert the orgs of `path` (JSON Lines) by id; bad rows are reported and skipped.

    Raises OSError when the file cannot be read.
    """
    report = LoadReport("orgs")
    seen: dict[int, tuple[int, OrgRow]] = {}
    for batch in read_batches(path):
        _load_batch(engine, batch, seen, report)
    return report.finish()
