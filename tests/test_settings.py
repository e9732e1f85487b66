"""Feature flags as the runbook promises: default to DEBUG, usual spellings, loud errors for nonsense."""

from __future__ import annotations

import pytest

from etims_pipeline.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_ETIMS_BASE_URL,
    DEFAULT_WEBSERVER_URL,
    ConfigError,
    FeatureFlags,
    database_url,
    etims_base_url,
    parse_flag,
    webserver_url,
)

TRUE_SPELLINGS = [
    "1",
    "true",
    "True",
    "TRUE",
    "t",
    "T",
    "yes",
    "YES",
    "Yes",
    "y",
    "on",
    "On",
    "ON",
    " true ",
    "\ttrue\n",
]
FALSE_SPELLINGS = ["0", "false", "False", "FALSE", "f", "no", "NO", "n", "off", "OFF", "Off", " off "]


@pytest.mark.parametrize("raw", TRUE_SPELLINGS)
@pytest.mark.parametrize("default", [True, False])
def test_true_spellings(raw: str, default: bool) -> None:
    assert parse_flag("ETIMS_ENABLED", raw, default=default) is True


@pytest.mark.parametrize("raw", FALSE_SPELLINGS)
@pytest.mark.parametrize("default", [True, False])
def test_false_spellings(raw: str, default: bool) -> None:
    assert parse_flag("ETIMS_ENABLED", raw, default=default) is False


@pytest.mark.parametrize("raw", [None, "", "   ", "\n"])
@pytest.mark.parametrize("default", [True, False])
def test_unset_or_empty_gives_the_default(raw: str | None, default: bool) -> None:
    assert parse_flag("KPIS_ENABLED", raw, default=default) is default


@pytest.mark.parametrize("raw", ["maybe", "2", "-1", "enabled", "yess", "tru", "nope", "1.0"])
@pytest.mark.parametrize("name", ["DEBUG", "ETIMS_ENABLED", "KPIS_ENABLED"])
def test_nonsense_is_a_config_error_naming_the_variable(name: str, raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_flag(name, raw, default=False)
    message = str(caught.value)
    assert f"{name}={raw!r}" in message
    assert "CONFIG_INVALID_FLAG" in message
    for accepted in ("true/false", "1/0", "yes/no", "on/off"):
        assert accepted in message


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, (False, False, False)),
        ({"DEBUG": ""}, (False, False, False)),
        ({"DEBUG": "false"}, (False, False, False)),
        ({"DEBUG": "true"}, (True, True, True)),
        ({"DEBUG": "1"}, (True, True, True)),
        ({"DEBUG": "true", "ETIMS_ENABLED": "false"}, (True, False, True)),
        ({"DEBUG": "true", "KPIS_ENABLED": "off"}, (True, True, False)),
        ({"DEBUG": "true", "ETIMS_ENABLED": "0", "KPIS_ENABLED": "no"}, (True, False, False)),
        ({"ETIMS_ENABLED": "true"}, (False, True, False)),
        ({"KPIS_ENABLED": "yes"}, (False, False, True)),
        ({"DEBUG": "false", "ETIMS_ENABLED": "on", "KPIS_ENABLED": "TRUE"}, (False, True, True)),
        ({"DEBUG": "true", "ETIMS_ENABLED": ""}, (True, True, True)),  # empty means "use the default"
        ({"DEBUG": "no", "ETIMS_ENABLED": "", "KPIS_ENABLED": " "}, (False, False, False)),
    ],
)
def test_flags_from_env(env: dict[str, str], expected: tuple[bool, bool, bool]) -> None:
    flags = FeatureFlags.from_env(env)
    assert (flags.debug, flags.etims_enabled, flags.kpis_enabled) == expected


@pytest.mark.parametrize("variable", ["DEBUG", "ETIMS_ENABLED", "KPIS_ENABLED"])
def test_nonsense_in_env_names_the_variable(variable: str) -> None:
    with pytest.raises(ConfigError, match=rf"^CONFIG_INVALID_FLAG: {variable}='maybe' is not a boolean"):
        FeatureFlags.from_env({variable: "maybe"})


def test_from_env_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEBUG", raising=False)
    monkeypatch.delenv("KPIS_ENABLED", raising=False)
    monkeypatch.setenv("ETIMS_ENABLED", "true")
    assert FeatureFlags.from_env() == FeatureFlags(debug=False, etims_enabled=True, kpis_enabled=False)
    monkeypatch.setenv("DEBUG", "true")
    monkeypatch.delenv("ETIMS_ENABLED")
    assert FeatureFlags.from_env() == FeatureFlags(debug=True, etims_enabled=True, kpis_enabled=True)


def test_from_values_matches_from_env() -> None:
    assert FeatureFlags.from_values("true", None, "false") == FeatureFlags(True, True, False)
    assert FeatureFlags.from_values(None, None, None) == FeatureFlags(False, False, False)


def test_flags_are_immutable() -> None:
    flags = FeatureFlags.from_env({})
    with pytest.raises(AttributeError):
        flags.etims_enabled = True  # type: ignore[misc]


def test_urls_default_when_unset_or_empty_and_follow_the_environment() -> None:
    assert database_url({}) == DEFAULT_DATABASE_URL
    assert database_url({"ETIMS_DATABASE_URL": ""}) == DEFAULT_DATABASE_URL
    assert database_url({"ETIMS_DATABASE_URL": "postgresql://db/etims"}) == "postgresql://db/etims"
    assert etims_base_url({}) == DEFAULT_ETIMS_BASE_URL
    assert etims_base_url({"ETIMS_BASE_URL": "https://etims-api.kra.go.ke/etims-api/"}) == (
        "https://etims-api.kra.go.ke/etims-api/"
    )
    assert webserver_url({}) == DEFAULT_WEBSERVER_URL == "http://127.0.0.1:3000"
    assert webserver_url({"ETIMS_WEBSERVER_URL": "https://dagster.internal"}) == "https://dagster.internal"
