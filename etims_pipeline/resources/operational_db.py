"""The operational database (orgs, invoices, attempts) as a Dagster resource.

One engine per process and URL, migrated to the newest schema the first time it is used.
"""

import logging
import threading

from dagster import ConfigurableResource
from pydantic import Field
from sqlalchemy import Engine

from etims_pipeline.settings import FeatureFlags
from etims_pipeline.store.db import make_engine
from etims_pipeline.store.encrypted import SECRETS_KEY_VARIABLE, secrets_cipher
from etims_pipeline.store.migrate import upgrade_to_head

logger = logging.getLogger(__name__)
_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def shared_engine(url: str) -> Engine:
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            _check_secrets_key()
            engine = make_engine(url)
            upgrade_to_head(engine)
            _engines[url] = engine
        return engine


def _check_secrets_key() -> None:
    """A malformed ETIMS_SECRETS_KEY fails the run here, naming it, not mid-write; a missing one outside
    DEBUG is said once per store a process opens, since device keys are then stored in plaintext."""
    if secrets_cipher() is None and not FeatureFlags.from_env().debug:
        logger.warning(
            "%s is not set: device cmcKeys are stored in plaintext; see docs/operations.md#secrets-at-rest",
            SECRETS_KEY_VARIABLE,
        )


class OperationalDatabaseResource(ConfigurableResource):  # type: ignore[type-arg]
    url: str = Field(description="SQLAlchemy URL; from ETIMS_DATABASE_URL (may hold a password: never logged)")

    def engine(self) -> Engine:
        return shared_engine(self.url)
