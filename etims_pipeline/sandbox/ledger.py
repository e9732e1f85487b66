"""The sandbox's memory of accepted sales, receipt counters and save calls received; thread-safe.

Check-and-commit happens under one lock, so two concurrent saves of the same invcNo cannot both succeed.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from etims_pipeline.etims.codes import RECEIPT_SALE
from etims_pipeline.sandbox.config import Device
from etims_pipeline.sandbox.fields import RejectedError
from etims_pipeline.sandbox.validation import SaleRequest

INTERNAL_DATA_LENGTH = 26
SIGNATURE_LENGTH = 16


@dataclass(frozen=True)
class Receipt:
    current_receipt_no: int
    total_receipt_no: int
    internal_data: str
    signature: str
    signed_at: datetime


@dataclass(frozen=True)
class AcceptedSale:
    sale: SaleRequest
    device: Device
    receipt: Receipt


def _sign(sale: SaleRequest, device: Device, total_receipt_no: int) -> tuple[str, str]:
    """Stand-ins for the control unit's internal data (26 chars) and receipt signature (16 chars)."""
    seed = f"{device.serial}|{sale.tin}|{sale.bhf_id}|{sale.invoice_no}|{total_receipt_no}|{sale.total_amount}"
    digest = hashlib.sha256(seed.encode()).digest()
    internal_data = base64.b32encode(digest).decode()[:INTERNAL_DATA_LENGTH]
    signature = base64.b32encode(digest[::-1]).decode()[:SIGNATURE_LENGTH]
    return internal_data, signature


class Ledger:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sales: dict[tuple[str, str, int], AcceptedSale] = {}
        self._counters: Counter[tuple[Device, str]] = Counter()
        self._save_calls: Counter[tuple[str, str, int]] = Counter()

    def count_save_call(self, tin: str, bhf_id: str, invoice_no: int) -> None:
        with self._lock:
            self._save_calls[(tin, bhf_id, invoice_no)] += 1

    def commit(self, sale: SaleRequest, device: Device, now: datetime) -> Receipt:
        """Record an accepted sale and issue its receipt; raises RejectedError for 994 and bad originals."""
        with self._lock:
            key = (sale.tin, sale.bhf_id, sale.invoice_no)
            if key in self._sales:
                raise RejectedError(
                    "994", f"overlapped data: invcNo {sale.invoice_no} is already used for this tin and bhfId"
                )
            if sale.receipt_type != RECEIPT_SALE:
                original = self._sales.get((sale.tin, sale.bhf_id, sale.original_invoice_no))
                if original is None or original.sale.receipt_type != RECEIPT_SALE:
                    raise RejectedError(
                        "910",
                        f"orgInvcNo {sale.original_invoice_no} is not an accepted sale of this tin and bhfId",
                    )
            self._counters[(device, sale.receipt_type)] += 1
            self._counters[(device, "*")] += 1
            total = self._counters[(device, "*")]
            internal_data, signature = _sign(sale, device, total)
            receipt = Receipt(
                current_receipt_no=self._counters[(device, sale.receipt_type)],
                total_receipt_no=total,
                internal_data=internal_data,
                signature=signature,
                signed_at=now,
            )
            self._sales[key] = AcceptedSale(sale, device, receipt)
            return receipt

    def find(self, tin: str, bhf_id: str, invoice_no: int) -> AcceptedSale | None:
        with self._lock:
            return self._sales.get((tin, bhf_id, invoice_no))

    def snapshot(self) -> tuple[list[AcceptedSale], dict[tuple[str, str, int], int]]:
        """Accepted sales in acceptance order, and save calls received per (tin, bhfId, invcNo)."""
        with self._lock:
            return list(self._sales.values()), dict(self._save_calls)

    def reset(self) -> None:
        with self._lock:
            self._sales.clear()
            self._counters.clear()
            self._save_calls.clear()
