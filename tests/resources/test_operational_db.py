"""The operational database resource checks ETIMS_SECRETS_KEY before it opens the store for a run."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from etims_pipeline.resources.operational_db import shared_engine
from etims_pipeline.settings import ConfigError
from etims_pipeline.store.encrypted import SECRETS_KEY_VARIABLE, new_secrets_key


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"  # a new URL per test: engines are cached per URL


@pytest.mark.parametrize(
    ("debug", "has_key", "warned"), [("false", False, True), ("true", False, False), ("false", True, False)]
)
def test_a_missing_key_outside_debug_is_said_once(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    debug: str,
    has_key: bool,
    warned: bool,
) -> None:
    monkeypatch.setenv("DEBUG", debug)
    if has_key:
        monkeypatch.setenv(SECRETS_KEY_VARIABLE, new_secrets_key())
    else:
        monkeypatch.delenv(SECRETS_KEY_VARIABLE, raising=False)

    with caplog.at_level(logging.WARNING, logger="etims_pipeline.resources.operational_db"):
        shared_engine(_url(tmp_path))
        shared_engine(_url(tmp_path))

    said = [record.getMessage() for record in caplog.records if SECRETS_KEY_VARIABLE in record.getMessage()]
    assert len(said) == (1 if warned else 0)
    assert all("stored in plaintext" in message for message in said)


def test_a_malformed_key_fails_before_the_store_opens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRETS_KEY_VARIABLE, "not-a-key")

    with pytest.raises(ConfigError, match=f"{SECRETS_KEY_VARIABLE}: key 1 of 1 is not a Fernet key"):
        shared_engine(_url(tmp_path))
    assert not (tmp_path / "store.sqlite3").exists()
