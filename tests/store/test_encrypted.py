"""cmcKeys at rest: encrypted under ETIMS_SECRETS_KEY, readable through rotations, and every failure names
the variable without showing a key, a ciphertext or a value."""

from __future__ import annotations

import argparse

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import StatementError

from etims_pipeline.cli import secrets as secrets_cli
from etims_pipeline.settings import ConfigError
from etims_pipeline.store.db import session_scope
from etims_pipeline.store.encrypted import PREFIX, SECRETS_KEY_VARIABLE, new_secrets_key, secrets_cipher
from etims_pipeline.store.models import VendorOrg
from tests.factories import make_org

CMC_KEY = "9F3A1C77B2E04D5AA1C3"
OLD_KEY, NEW_KEY = new_secrets_key(), new_secrets_key()


def _stored(engine: Engine, org_id: int = 1) -> str:
    """The raw column, as a database dump or a curious DBA sees it."""
    with engine.connect() as connection:
        value: str = connection.execute(
            text("SELECT cmc_key FROM vendor_orgs WHERE id = :id"), {"id": org_id}
        ).scalar_one()
    return value


def _read(engine: Engine, org_id: int = 1) -> str | None:
    with session_scope(engine) as session:
        return session.scalar(select(VendorOrg.cmc_key).where(VendorOrg.id == org_id))


def _reencrypt(engine: Engine) -> int:
    parser = argparse.ArgumentParser()
    secrets_cli.register(parser.add_subparsers())
    args = parser.parse_args(["reencrypt-secrets", "--database-url", engine.url.render_as_string(hide_password=False)])
    code: int = args.handler(args)
    return code


def test_with_a_key_the_database_holds_only_ciphertext(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRETS_KEY_VARIABLE, NEW_KEY)
    make_org(engine, 1, cmc_key=CMC_KEY)
    make_org(engine, 2, cmc_key=CMC_KEY)

    assert _stored(engine).startswith(PREFIX) and CMC_KEY not in _stored(engine)
    assert _stored(engine, 1) != _stored(engine, 2)  # a fresh IV each time: equal keys do not show as equal
    assert _read(engine) == CMC_KEY


def test_without_a_key_values_stay_plaintext_and_stay_readable_once_one_is_set(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRETS_KEY_VARIABLE, raising=False)
    make_org(engine, 1, cmc_key=CMC_KEY)
    assert _stored(engine) == CMC_KEY  # the local, keyless setup of `make run`

    monkeypatch.setenv(SECRETS_KEY_VARIABLE, NEW_KEY)
    assert _read(engine) == CMC_KEY
    assert _reencrypt(engine) == 0
    assert _stored(engine).startswith(PREFIX) and _read(engine) == CMC_KEY


def test_a_rotation_reads_old_values_and_reencrypts_them_under_the_new_key(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRETS_KEY_VARIABLE, OLD_KEY)
    make_org(engine, 1, cmc_key=CMC_KEY)

    monkeypatch.setenv(SECRETS_KEY_VARIABLE, f"{NEW_KEY},{OLD_KEY}")
    assert _read(engine) == CMC_KEY
    assert _reencrypt(engine) == 0

    monkeypatch.setenv(SECRETS_KEY_VARIABLE, NEW_KEY)  # the old key dropped
    assert _read(engine) == CMC_KEY


def test_a_missing_or_wrong_key_is_a_clear_error_without_secrets(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRETS_KEY_VARIABLE, OLD_KEY)
    make_org(engine, 1, cmc_key=CMC_KEY)
    ciphertext = _stored(engine)

    monkeypatch.delenv(SECRETS_KEY_VARIABLE)
    with pytest.raises(ConfigError, match=f"encrypted but {SECRETS_KEY_VARIABLE} is not set") as missing:
        _read(engine)
    monkeypatch.setenv(SECRETS_KEY_VARIABLE, NEW_KEY)
    with pytest.raises(ConfigError, match=f"does not decrypt with any key in {SECRETS_KEY_VARIABLE}") as wrong:
        _read(engine)

    for error in (str(missing.value), str(wrong.value)):
        assert CMC_KEY not in error and ciphertext not in error and OLD_KEY not in error and NEW_KEY not in error


def test_a_malformed_key_names_the_variable_and_its_position_only(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(SECRETS_KEY_VARIABLE, f"{NEW_KEY},not-a-fernet-key")
    with pytest.raises(StatementError, match=f"{SECRETS_KEY_VARIABLE}: key 2 of 2 is not a Fernet key") as malformed:
        make_org(engine, 1, cmc_key=CMC_KEY)  # the write fails; SQLAlchemy wraps the error, parameters hidden
    assert isinstance(malformed.value.orig, ConfigError)
    assert "not-a-fernet-key" not in str(malformed.value) and NEW_KEY not in str(malformed.value)
    assert CMC_KEY not in str(malformed.value)

    assert _reencrypt(engine) == 2
    assert "CONFIG_INVALID" in capsys.readouterr().err


def test_reencrypt_wants_a_key(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(SECRETS_KEY_VARIABLE, raising=False)
    assert _reencrypt(engine) == 2
    assert "SECRETS_KEY_MISSING" in capsys.readouterr().err


def test_secrets_key_prints_a_usable_key(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    secrets_cli.register(parser.add_subparsers())
    args = parser.parse_args(["secrets-key"])
    assert args.handler(args) == 0
    key = capsys.readouterr().out.strip()
    monkeypatch.setenv(SECRETS_KEY_VARIABLE, key)
    assert secrets_cipher() is not None
