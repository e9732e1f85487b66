"""The end-to-end stack as a fixture (marked e2e: real webserver, daemon and sandbox processes)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_ADMIN_URL
from tests.e2e.stack import DagsterStack, dagster_stack


@pytest.fixture
def e2e_stack(tmp_path: Path) -> Iterator[DagsterStack]:
    with dagster_stack(tmp_path, POSTGRES_ADMIN_URL) as stack:
        yield stack
