"""Fixtures to materialize the submission asset in-process against a sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dagster import DagsterInstance, ExecuteInProcessResult, instance_for_test, materialize

from etims_pipeline.assets.submissions import submitted_invoices
from etims_pipeline.resources.etims_api import EtimsApiResource
from etims_pipeline.resources.feature_flags import FeatureFlagsResource
from etims_pipeline.resources.operational_db import OperationalDatabaseResource

MaterializeFn = Callable[..., ExecuteInProcessResult]


@pytest.fixture
def dagster_instance() -> Iterator[DagsterInstance]:
    with instance_for_test() as instance:
        yield instance


def resources(base_url: str, database_url: str, etims_enabled: str = "true") -> dict[str, Any]:
    return {
        "etims": EtimsApiResource(base_url=base_url, timeout_seconds=2.0, backoff_base_seconds=0.01,
                                  backoff_max_seconds=0.05),
        "operational_db": OperationalDatabaseResource(url=database_url),
        "feature_flags": FeatureFlagsResource(etims_enabled=etims_enabled),
    }


@pytest.fixture
def materialize_day(dagster_instance: DagsterInstance) -> MaterializeFn:
    def run(
        base_url: str, database_url: str, partition_key: str = "2026-11-23", *, etims_enabled: str = "true",
        org_ids: list[int] | None = None, tags: dict[str, str] | None = None,
    ) -> ExecuteInProcessResult:
        run_config = {"ops": {"submitted_invoices": {"config": {"org_ids": org_ids or []}}}}
        return materialize(
            [submitted_invoices],
            partition_key=None if tags else partition_key,
            resources=resources(base_url, database_url, etims_enabled),
            instance=dagster_instance,
            run_config=run_config,
            tags=tags,
            raise_on_error=False,
        )

    return run
