"""Secrets at rest: columns of this type (the org's cmcKey) are stored encrypted under `ETIMS_SECRETS_KEY`.

Fernet (AES-128-CBC with an HMAC-SHA256 tag, from `cryptography`) encrypts each value with a fresh IV, so
the same key never gives the same ciphertext twice, and any tampering fails the tag. Stored values carry a
`fernet:` prefix; anything else is plaintext, written before a key was configured (or in a local setup
without one) and still read as is, until `etims-pipeline reencrypt-secrets` rewrites it.

`ETIMS_SECRETS_KEY` is a comma-separated list of Fernet keys: the first encrypts, every one decrypts. To
rotate, put the new key first, keep the old one after it, run `reencrypt-secrets`, then drop the old key.
Without the variable values are written in plaintext, which suits `make run` and tests, not production
(docs/operations.md). The key is read from the environment, never from Dagster config, so it cannot show in
the UI; errors name the variable, never a key, a ciphertext or a value.
"""

from __future__ import annotations

import os
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Dialect, String
from sqlalchemy.types import TypeDecorator

from etims_pipeline.settings import ConfigError

SECRETS_KEY_VARIABLE = "ETIMS_SECRETS_KEY"
PREFIX = "fernet:"


def new_secrets_key() -> str:
    """A fresh random Fernet key, for `ETIMS_SECRETS_KEY`."""
    return Fernet.generate_key().decode()


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX)


@lru_cache(maxsize=4)
def _cipher_for(raw: str) -> MultiFernet | None:
    keys = [part.strip() for part in raw.split(",") if part.strip()]
    if not keys:
        return None
    ciphers = []
    for position, key in enumerate(keys, start=1):
        try:
            ciphers.append(Fernet(key))
        except ValueError:
            raise ConfigError(
                f"{SECRETS_KEY_VARIABLE}: key {position} of {len(keys)} is not a Fernet key (32 url-safe "
                "base64-encoded bytes); generate one with `etims-pipeline secrets-key`"
            ) from None
    return MultiFernet(ciphers)


def secrets_cipher() -> MultiFernet | None:
    """The cipher of `ETIMS_SECRETS_KEY` as the environment has it now; None when it is unset or empty."""
    return _cipher_for(os.environ.get(SECRETS_KEY_VARIABLE, ""))


def encrypt(value: str) -> str:
    """What is stored for `value`: its ciphertext under the first key, or the value itself without a key."""
    cipher = secrets_cipher()
    return value if cipher is None else PREFIX + cipher.encrypt(value.encode()).decode()


def decrypt(stored: str) -> str:
    """The value behind what is stored; plaintext passes through."""
    if not is_encrypted(stored):
        return stored
    cipher = secrets_cipher()
    if cipher is None:
        raise ConfigError(
            f"a stored cmcKey is encrypted but {SECRETS_KEY_VARIABLE} is not set; "
            "set it to the key (or keys) it was written with"
        )
    try:
        return cipher.decrypt(stored.removeprefix(PREFIX).encode()).decode()
    except InvalidToken:
        raise ConfigError(
            f"a stored cmcKey does not decrypt with any key in {SECRETS_KEY_VARIABLE}: a key is missing "
            "(after a rotation, keep the old key after the new one until `reencrypt-secrets` ran) or the "
            "value was altered"
        ) from None


class EncryptedString(TypeDecorator[str]):
    """A VARCHAR whose values are encrypted on the way in and decrypted on the way out."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else decrypt(value)
