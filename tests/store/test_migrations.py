"""The migration chain is the schema: it upgrades and downgrades cleanly, and matches the models exactly."""

from __future__ import annotations

import importlib
import pkgutil

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

import etims_pipeline.store
from etims_pipeline.store.db import make_engine
from etims_pipeline.store.migrate import alembic_config, upgrade_to_head
from etims_pipeline.store.models import Base


def _import_all_models() -> None:
    for module in pkgutil.iter_modules(etims_pipeline.store.__path__):
        if module.name.endswith("models"):
            importlib.import_module(f"etims_pipeline.store.{module.name}")


def test_models_and_migrations_agree(engine: Engine) -> None:
    _import_all_models()
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_the_chain_downgrades_to_nothing_and_back(database_url: str) -> None:
    eng = make_engine(database_url)
    try:
        upgrade_to_head(eng)
        config = alembic_config(database_url)
        command.downgrade(config, "base")
        assert set(inspect(eng).get_table_names()) <= {"alembic_version"}
        upgrade_to_head(eng)
        assert {"vendor_orgs", "invoices", "submission_attempts"} <= set(inspect(eng).get_table_names())
    finally:
        eng.dispose()
