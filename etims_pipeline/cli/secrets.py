"""`etims-pipeline secrets-key` and `reencrypt-secrets`: the key that encrypts cmcKeys at rest, and its use.

`secrets-key` prints a new random key for `ETIMS_SECRETS_KEY`. `reencrypt-secrets` rewrites every stored
cmcKey under the first key of `ETIMS_SECRETS_KEY`: it encrypts keys stored before encryption was
configured, and finishes a rotation (new key first, old key after it) so that the old key can be dropped.
Neither prints a key other than the new one, nor any cmcKey.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlalchemy import Engine, bindparam, select, update
from sqlalchemy.exc import OperationalError

from etims_pipeline.settings import ConfigError, database_url
from etims_pipeline.store.db import make_engine, redacted_url
from etims_pipeline.store.encrypted import SECRETS_KEY_VARIABLE, new_secrets_key, secrets_cipher
from etims_pipeline.store.models import VendorOrg


def _secrets_key(args: argparse.Namespace) -> int:
    print(new_secrets_key())
    return 0


def reencrypt_all(engine: Engine) -> int:
    """Rewrite every stored cmcKey under the first key; returns how many. One transaction: all or none."""
    with engine.begin() as connection:
        # Reading decrypts with any configured key (or passes plaintext through); writing uses the first key.
        stored = connection.execute(select(VendorOrg.id, VendorOrg.cmc_key).where(VendorOrg.cmc_key.is_not(None))).all()
        if stored:
            rewrite = update(VendorOrg).where(VendorOrg.id == bindparam("org_id")).values(cmc_key=bindparam("key"))
            connection.execute(rewrite, [{"org_id": org_id, "key": key} for org_id, key in stored])
    return len(stored)


def _reencrypt(args: argparse.Namespace) -> int:
    url = args.database_url or database_url()
    engine = make_engine(url)
    try:
        if secrets_cipher() is None:
            print(f"SECRETS_KEY_MISSING: set {SECRETS_KEY_VARIABLE} first (see `secrets-key`)", file=sys.stderr)
            return 2
        count = reencrypt_all(engine)
    except ConfigError as exc:
        print(f"CONFIG_INVALID: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        print(f"DATABASE_UNREACHABLE: {redacted_url(url)}: {exc.orig}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"re-encrypted {count} stored cmcKey(s) under the first key of {SECRETS_KEY_VARIABLE}")
    return 0


def register(subparsers: Any) -> None:
    key = subparsers.add_parser("secrets-key", help=f"print a new random key for {SECRETS_KEY_VARIABLE}")
    key.set_defaults(handler=_secrets_key)
    reencrypt = subparsers.add_parser(
        "reencrypt-secrets", help=f"rewrite every stored cmcKey under the first key of {SECRETS_KEY_VARIABLE}"
    )
    reencrypt.add_argument("--database-url", help="defaults to $ETIMS_DATABASE_URL, else a local SQLite file")
    reencrypt.set_defaults(handler=_reencrypt)
