"""Helpers to materialize the submission asset in-process against a sandbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dagster import ExecuteInProcessResult

from etims_pipeline.resources.etims_api import EtimsApiResource
from etims_pipeline.resources.feature_flags import FeatureFlagsResource
from etims_pipeline.resources.operational_db import OperationalDatabaseResource

MaterializeFn = Callable[..., ExecuteInProcessResult]


def resources(base_url: str, database_url: str, etims_enabled: str = "true") -> dict[str, Any]:
    return {
        "etims": EtimsApiResource(
            base_url=base_url, timeout_seconds=2.0, backoff_base_seconds=0.01, backoff_max_seconds=0.05
        ),
        "operational_db": OperationalDatabaseResource(url=database_url),
        "feature_flags": FeatureFlagsResource(etims_enabled=etims_enabled),
    }
