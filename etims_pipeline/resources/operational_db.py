"""The operational database (orgs, invoices, attempts) as a Dagster resource.

One engine per process and URL. Runs migrate it to the newest schema the first time they use it; the
replay sensor uses the same engine unmigrated, since a migration racing the loader's would fail one of them.
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
_migrated: set[str] = set()
_lock = threading.Lock()


def cached_engine(url: str) -> Engine:
    """This process's engine (and connection pool) for `url`, created on first use, never migrated."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            _check_secrets_key()
            engine = _engines[url] = make_engine(url)
        return engine


def shared_engine(url: str) -> Engine:
    """`cached_engine(url)`, migrated to the newest schema the first time this process asks."""
    engine = cached_engine(url)
    with _lock:
        if url not in _migrated:
            upgrade_to_head(engine)
            _migrated.add(url)
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
