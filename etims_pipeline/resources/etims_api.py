"""The eTIMS OSCU API as a Dagster resource: one pooled HTTP client per run, retry settings."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from dagster import ConfigurableResource
from pydantic import Field

from etims_pipeline.etims.client import EtimsClient, make_http_client
from etims_pipeline.submission.engine import EngineSettings
from etims_pipeline.submission.retry import RetryPolicy


class EtimsApiResource(ConfigurableResource):  # type: ignore[type-arg]
    """Where eTIMS is and how hard to push it."""

    base_url: str = Field(description="OSCU base URL, e.g. https://etims-api-sbx.kra.go.ke/etims-api/")
    timeout_seconds: float = Field(default=30.0, description="read timeout of one call")
    connect_timeout_seconds: float = Field(default=5.0)
    max_in_flight: int = Field(default=8, description="orgs worked at once, one request in flight each")
    max_calls_per_invoice: int = Field(default=5, description="eTIMS calls spent on one invoice per run")
    backoff_base_seconds: float = Field(default=0.5)
    backoff_max_seconds: float = Field(default=8.0)
    tax_rate_cache_hours: float = Field(default=24.0, description="how long code-list tax rates are reused")

    @contextmanager
    def open_client(self) -> Iterator[EtimsClient]:
        with make_http_client(
            self.base_url,
            timeout_seconds=self.timeout_seconds,
            connect_timeout_seconds=self.connect_timeout_seconds,
            max_connections=self.max_in_flight + 2,
        ) as http:
            yield EtimsClient(http)

    def engine_settings(self) -> EngineSettings:
        return EngineSettings(
            max_in_flight=self.max_in_flight,
            retry=RetryPolicy(
                max_calls=self.max_calls_per_invoice,
                base_delay_seconds=self.backoff_base_seconds,
                max_delay_seconds=self.backoff_max_seconds,
            ),
            tax_rate_max_age=timedelta(hours=self.tax_rate_cache_hours),
        )
