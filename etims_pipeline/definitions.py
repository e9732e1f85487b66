"""The one `Definitions` object of the code location: assets, checks, jobs, schedules, resources, executor."""

import os

from dagster import AssetSelection, Definitions, EnvVar, define_asset_job, in_process_executor

from etims_pipeline.assets.kpis import vendor_kpis
from etims_pipeline.assets.submissions import submitted_invoices
from etims_pipeline.resources.etims_api import EtimsApiResource
from etims_pipeline.resources.feature_flags import FeatureFlagsResource
from etims_pipeline.resources.operational_db import OperationalDatabaseResource
from etims_pipeline.schedules import daily_close_job, vendor_kpis_daily_schedule
from etims_pipeline.sensors.replay import replay_fixed_orgs
from etims_pipeline.sensors.replay_run import SUBMIT_INVOICES_JOB
from etims_pipeline.settings import DEFAULT_DATABASE_URL, DEFAULT_ETIMS_BASE_URL


def _env(name: str, default: str) -> str | EnvVar:
    """EnvVar when set, so the value (which may hold a password) is resolved at run time, never shown."""
    return EnvVar(name) if os.environ.get(name) else default


submit_invoices_job = define_asset_job(
    SUBMIT_INVOICES_JOB,
    selection=AssetSelection.assets(submitted_invoices),
    description="Submit the open invoices of a Nairobi day (or range) to eTIMS.",
)

defs = Definitions(
    assets=[submitted_invoices, vendor_kpis],
    jobs=[submit_invoices_job, daily_close_job],
    schedules=[vendor_kpis_daily_schedule],
    sensors=[replay_fixed_orgs],
    resources={
        "etims": EtimsApiResource(base_url=_env("ETIMS_BASE_URL", DEFAULT_ETIMS_BASE_URL)),
        "operational_db": OperationalDatabaseResource(url=_env("ETIMS_DATABASE_URL", DEFAULT_DATABASE_URL)),
        "feature_flags": FeatureFlagsResource(),
    },
    executor=in_process_executor,
)
