"""Intake's commands for `cs`: `cs pii rotate` re-encrypts customers' personal data, callers'
numbers and senders' addresses that are not under the current CS_PII_KEY."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from shared.config import Settings, db_password_variable


def register(commands: Any) -> None:
    """Adds intake's subcommands to `commands`, the `cs` parser's subparsers object."""
    k = commands.add_parser("pii", help="personal data: rotate re-encrypts it under CS_PII_KEY")
    k.add_argument("action", choices=("rotate",))
    k.add_argument("--batch-size", type=int, default=200, help="customers per transaction")
    k.set_defaults(func=cmd_pii)


def cmd_pii(args: argparse.Namespace) -> int:
    """`rotate`: re-encrypts intake's personal data that is not under the current CS_PII_KEY."""
    from services.intake.commands import keys
    from services.intake.domain.vault import Vault, VaultError
    from shared.db import Database

    settings = Settings.from_env()
    settings.refuse_development_defaults(
        ["CS_PII_KEY", "CS_PII_INDEX_KEY", db_password_variable("intake")]
    )
    vault = Vault.from_settings(settings)
    db = Database(settings, "intake", max_size=1)
    try:
        with db.transaction() as tx:
            if keys.index_key_matches(tx, vault) is False:
                print(
                    "cs: CS_PII_INDEX_KEY is not the key the stored lookups were built with"
                    " (set it to that key: the rotation keeps it); nothing changed",
                    file=sys.stderr,
                )
                return 1
        done, total = keys.rotate_customers(
            db,
            vault,
            batch_size=args.batch_size,
            progress=lambda n, m: print(f"re-encrypted {n} of {m}", flush=True),
        )
        channel_blobs = keys.rotate_channel_blobs(db, vault, args.batch_size)
    except VaultError as e:  # batches before this one are committed; running again resumes
        print(f"cs: rotation stopped: {e}", file=sys.stderr)
        return 1
    finally:
        db.close()
    print(
        f"done: {done} customer(s) re-encrypted under the current key ({total} found stale),"
        f" {channel_blobs} call and e-mail record(s)"
    )
    return 0
