"""The Dagster instance files load: the local SQLite one and the production PostgreSQL one (env vars only)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[2]


def load_instance(config: Path, home: Path) -> DagsterInstance:
    shutil.copyfile(config, home / "dagster.yaml")
    return DagsterInstance.from_config(str(home))


def assert_shared_settings(instance: DagsterInstance) -> None:
    concurrency = instance.get_concurrency_config()
    assert concurrency.pool_config.default_pool_limit == 1  # so the `etims_api` pool has one slot
    assert concurrency.run_queue_config is not None
    assert concurrency.run_queue_config.max_concurrent_runs == 4
    assert instance.run_monitoring_enabled
    assert instance.get_settings("telemetry") == {"enabled": False}


def test_local_instance_is_sqlite_under_dagster_home(tmp_path: Path) -> None:
    instance = load_instance(REPO / "deploy/local/dagster.yaml", tmp_path)
    try:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert_shared_settings(instance)
    finally:
        instance.dispose()


@pytest.mark.postgres
def test_production_instance_on_postgres_from_env(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_url(postgres_url)
    monkeypatch.setenv("DAGSTER_PG_USERNAME", url.username or "postgres")
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", url.password or "")
    monkeypatch.setenv("DAGSTER_PG_HOST", url.host or "127.0.0.1")
    monkeypatch.setenv("DAGSTER_PG_DB", url.database or "")
    monkeypatch.setenv("DAGSTER_PG_PORT", str(url.port or 5432))
    instance = load_instance(REPO / "dagster.yaml", tmp_path)
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert instance.get_runs_count() == 0  # the schema was created and answers
        assert_shared_settings(instance)
        assert instance.run_retries_enabled
        assert instance.run_retries_max_retries == 1
    finally:
        instance.dispose()


def test_production_config_takes_every_connection_setting_from_the_environment() -> None:
    storage = yaml.safe_load((REPO / "dagster.yaml").read_text())["storage"]["postgres"]["postgres_db"]
    assert storage == {
        "username": {"env": "DAGSTER_PG_USERNAME"},
        "password": {"env": "DAGSTER_PG_PASSWORD"},
        "hostname": {"env": "DAGSTER_PG_HOST"},
        "db_name": {"env": "DAGSTER_PG_DB"},
        "port": {"env": "DAGSTER_PG_PORT"},
        "scheme": "postgresql+psycopg2",
    }


def test_workspace_loads_the_one_code_location() -> None:
    (entry,) = yaml.safe_load((REPO / "workspace.yaml").read_text())["load_from"]
    assert entry == {
        "python_module": {
            "module_name": "etims_pipeline.definitions",
            "attribute": "defs",
            "location_name": "etims_pipeline",
            "working_directory": ".",
        }
    }
