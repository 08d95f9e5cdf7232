"""`dermis backup` and `dermis restore` (see dermis.web.backup for what the archive holds)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from dermis.cli.web import _setup_django

KEY_VARIABLE = "DERMIS_BACKUP_KEY"


def register(subparsers: argparse._SubParsersAction) -> None:
    backup = subparsers.add_parser(
        "backup",
        help="write one archive of the database and the photos, with checksums",
        description="Write one consistent archive: the database (SQLite's online backup, or "
        "pg_dump), every photo, and a manifest of SHA-256 checksums. Encrypted when "
        f"{KEY_VARIABLE} is set (or --encrypt insists on it).",
    )
    backup.add_argument(
        "output",
        nargs="?",
        help="archive to write (default var/backups/dermis-<UTC time>.tar.gz[.enc])",
    )
    backup.add_argument(
        "--encrypt", action="store_true", help=f"refuse to write an archive without {KEY_VARIABLE}"
    )
    backup.add_argument(
        "--new-key", action="store_true", help=f"print a new key for {KEY_VARIABLE} and stop"
    )
    backup.set_defaults(func=backup_command)

    restore = subparsers.add_parser(
        "restore",
        help="rebuild an empty instance from a backup archive",
        description="Check every checksum in the archive, then load it into this instance's "
        "database (which must be empty: a new database, or no SQLite file yet) and photo "
        f"folder (empty). An encrypted archive needs {KEY_VARIABLE}.",
    )
    restore.add_argument("archive")
    restore.set_defaults(func=restore_command)


def _key() -> bytes | None:
    raw = os.environ.get(KEY_VARIABLE, "").strip()
    return raw.encode() if raw else None


def backup_command(args: argparse.Namespace) -> int:
    if args.new_key:
        from dermis.web.backup import new_key

        print(new_key())
        return 0
    key = _key()
    if args.encrypt and not key:
        print(f"dermis: error: {KEY_VARIABLE}: --encrypt needs a key", file=sys.stderr)
        return 2
    if not _setup_django(local_tool=True):
        return 2
    from django.conf import settings
    from django.db import connection

    from dermis.web.backup import BackupError, create_backup

    if args.output:
        out = Path(args.output)
    else:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = Path(settings.DATA_DIR) / "backups" / f"dermis-{stamp}.tar.gz"
        if key:
            out = out.with_name(out.name + ".enc")
    try:
        summary = create_backup(out, connection.settings_dict, settings.PHOTO_ROOT, key)
    except BackupError as exc:
        print(f"dermis: error: {exc}", file=sys.stderr)
        return 2
    state = "encrypted" if summary.encrypted else "NOT encrypted"
    print(
        f"backup written: {summary.path} ({summary.vendor} database, {summary.photos} photo "
        f"files, {state})"
    )
    return 0


def restore_command(args: argparse.Namespace) -> int:
    if not _setup_django(local_tool=True):
        return 2
    from django.conf import settings
    from django.db import connection

    from dermis.web.backup import BackupError, restore_backup

    connection.close()  # SQLite: nothing of this process holds the file the restore writes
    try:
        summary = restore_backup(
            Path(args.archive), connection.settings_dict, settings.PHOTO_ROOT, _key()
        )
    except BackupError as exc:
        print(f"dermis: error: {exc}", file=sys.stderr)
        return 2
    # What the shared cache keeps by a clinic's schedule version (pages, counts) was drawn from
    # the database before the restore, whose versions went further than the backup's: a shared
    # cache outside the database (Redis) would otherwise give them again as the numbers repeat.
    from django.core.cache import cache

    cache.clear()
    print(
        f"restored {summary.path}: {summary.vendor} database and {summary.photos} photo files. "
        "Run `dermis manage migrate` if this version of Dermis is newer than the backup."
    )
    return 0
