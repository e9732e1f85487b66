"""Feature flags and environment settings, read the way the runbook promises.

`ETIMS_ENABLED` and `KPIS_ENABLED` default to on when `DEBUG` is true and off otherwise. Values accept
the usual spellings (true/false, 1/0, yes/no, on/off, any case); anything else is a configuration error
that names the variable, never a silent default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})

DEFAULT_DATABASE_URL = "sqlite:///var/etims.sqlite3"
DEFAULT_ETIMS_BASE_URL = "http://127.0.0.1:8089/etims-api/"
DEFAULT_WEBSERVER_URL = "http://127.0.0.1:3000"


class ConfigError(ValueError):
    """Bad configuration: the message names the setting and what it accepts."""


def parse_flag(name: str, raw: str | None, default: bool) -> bool:
    value = (raw or "").strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(
        f"CONFIG_INVALID_FLAG: {name}={raw!r} is not a boolean; use true/false (also 1/0, yes/no, on/off)"
    )


@dataclass(frozen=True)
class FeatureFlags:
    debug: bool
    etims_enabled: bool
    kpis_enabled: bool

    @classmethod
    def from_values(cls, debug: str | None, etims_enabled: str | None, kpis_enabled: str | None) -> FeatureFlags:
        is_debug = parse_flag("DEBUG", debug, default=False)
        return cls(
            debug=is_debug,
            etims_enabled=parse_flag("ETIMS_ENABLED", etims_enabled, default=is_debug),
            kpis_enabled=parse_flag("KPIS_ENABLED", kpis_enabled, default=is_debug),
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FeatureFlags:
        env = os.environ if environ is None else environ
        return cls.from_values(env.get("DEBUG"), env.get("ETIMS_ENABLED"), env.get("KPIS_ENABLED"))


def _setting(name: str, default: str, environ: Mapping[str, str] | None) -> str:
    """The variable's value, or `default` when it is unset or empty."""
    env = os.environ if environ is None else environ
    return env.get(name) or default


def database_url(environ: Mapping[str, str] | None = None) -> str:
    return _setting("ETIMS_DATABASE_URL", DEFAULT_DATABASE_URL, environ)


def etims_base_url(environ: Mapping[str, str] | None = None) -> str:
    return _setting("ETIMS_BASE_URL", DEFAULT_ETIMS_BASE_URL, environ)


def webserver_url(environ: Mapping[str, str] | None = None) -> str:
    """The Dagster webserver that operator commands launch runs on (`submit-invoices --launch`)."""
    return _setting("ETIMS_WEBSERVER_URL", DEFAULT_WEBSERVER_URL, environ)
