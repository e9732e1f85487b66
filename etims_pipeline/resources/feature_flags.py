"""The runbook's feature flags as a Dagster resource, read from the environment when a run starts."""

import os

from dagster import ConfigurableResource
from pydantic import Field

from etims_pipeline.settings import FeatureFlags


class FeatureFlagsResource(ConfigurableResource):  # type: ignore[type-arg]
    """Unset fields fall back to DEBUG / ETIMS_ENABLED / KPIS_ENABLED in the run's environment."""

    debug: str | None = Field(default=None)
    etims_enabled: str | None = Field(default=None)
    kpis_enabled: str | None = Field(default=None)

    def load(self) -> FeatureFlags:
        env = os.environ
        return FeatureFlags.from_values(
            self.debug if self.debug is not None else env.get("DEBUG"),
            self.etims_enabled if self.etims_enabled is not None else env.get("ETIMS_ENABLED"),
            self.kpis_enabled if self.kpis_enabled is not None else env.get("KPIS_ENABLED"),
        )
