"""Alembic environment: migrations run against the URL handed in by etims_pipeline.store.migrate."""

from alembic import context

from etims_pipeline.store import (
    kpi_models,  # noqa: F401  (registers the KPI tables on Base.metadata)
    metric_models,  # noqa: F401  (registers the attempt rollups)
    replay_models,  # noqa: F401  (registers org_status_changes)
)
from etims_pipeline.store.db import make_engine
from etims_pipeline.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
