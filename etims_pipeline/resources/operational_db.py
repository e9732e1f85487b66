"""The operational database (orgs, invoices, attempts) as a Dagster resource.

One engine per process and URL, migrated to the newest schema the first time it is used.
"""

import threading

from dagster import ConfigurableResource
from pydantic import Field
from sqlalchemy import Engine

from etims_pipeline.store.db import make_engine
from etims_pipeline.store.encrypted import secrets_cipher
from etims_pipeline.store.migrate import upgrade_to_head

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def shared_engine(url: str) -> Engine:
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            secrets_cipher()  # a malformed ETIMS_SECRETS_KEY fails the run here, naming it, not mid-write
            engine = make_engine(url)
            upgrade_to_head(engine)
            _engines[url] = engine
        return engine


class OperationalDatabaseResource(ConfigurableResource):  # type: ignore[type-arg]
    url: str = Field(description="SQLAlchemy URL; from ETIMS_DATABASE_URL (may hold a password: never logged)")

    def engine(self) -> Engine:
        return shared_engine(self.url)
