"""`dermis backup` and `dermis restore`: one consistent archive of the database and the photos.

The archive is a gzip-compressed tar holding:

- ``manifest.json``: format, time, Dermis version, the database vendor, the latest migration of
  each app, and the SHA-256 of every other member;
- the database: ``database.sqlite3`` (a copy taken with SQLite's online backup API, consistent
  while the clinic keeps working) or ``database.pgdump`` (``pg_dump --format=custom``: one
  snapshot of the whole database);
- ``photos/…``: every file under ``PHOTO_ROOT`` (photos and thumbnails), copied after the database,
  so every photo the database names is there (a photo uploaded during the backup may be too).

With a key (``DERMIS_BACKUP_KEY``, a Fernet key: ``dermis backup --new-key`` prints one) the archive
is encrypted in 1 MiB chunks, each an authenticated Fernet token numbered in order, the last one
marked, so a chunk removed, repeated, reordered or cut off is detected.

Restoring checks every checksum before it writes anything, and only into an empty instance: a
database with no tables and an empty photo folder, of the same vendor as the backup.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

FORMAT = 1
MANIFEST = "manifest.json"
MAGIC = b"DERMIS-BACKUP-ENC1\n"
CHUNK = 1024 * 1024
DUMP_NAMES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


class BackupError(Exception):
    """Something the operator must fix; the message says what (never a traceback)."""


@dataclass(frozen=True)
class Summary:
    path: Path
    vendor: str
    photos: int
    encrypted: bool


# --- Creating -------------------------------------------------------------------------------


def create_backup(out: Path, database: dict, photo_root: Path, key: bytes | None = None) -> Summary:
    """Write the archive to `out` (replaced only once complete)."""
    vendor = _vendor(database)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dermis-backup-", dir=out.parent) as work:
        work_dir = Path(work)
        dump = work_dir / DUMP_NAMES[vendor]
        if vendor == "sqlite":
            _sqlite_copy(Path(database["NAME"]), dump)
        else:
            _pg_dump(database, dump)
        photos = sorted(p for p in Path(photo_root).rglob("*") if p.is_file())
        members = [(DUMP_NAMES[vendor], dump)] + [
            (f"photos/{p.relative_to(photo_root).as_posix()}", p) for p in photos
        ]
        manifest = {
            "format": FORMAT,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "dermis_version": _version(),
            "database": {"vendor": vendor, "file": DUMP_NAMES[vendor]},
            "migrations": _latest_migrations(),
            "files": {name: _sha256(path) for name, path in members},
        }
        plain = work_dir / "archive.tar.gz"
        with tarfile.open(plain, "w:gz") as tar:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(dt.datetime.now().timestamp())
            tar.addfile(info, _bytes_io(data))
            for name, path in members:
                tar.add(path, arcname=name, recursive=False)
        partial = work_dir / "final"
        if key:
            _encrypt_file(plain, partial, key)
        else:
            plain.replace(partial)
        os.chmod(partial, 0o600)
        partial.replace(out)
    return Summary(out, vendor, len(photos), bool(key))


def _sqlite_copy(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupError(f"database: no SQLite file at {source}")
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


def _pg_dump(database: dict, target: Path) -> None:
    command = [
        _pg_tool("pg_dump"),
        "--format=custom",
        "--no-owner",
        "--no-privileges",
        f"--file={target}",
    ]
    _run(command, database, "pg_dump")


# --- Restoring ------------------------------------------------------------------------------


def restore_backup(
    archive: Path, database: dict, photo_root: Path, key: bytes | None = None
) -> Summary:
    """Check the archive, then rebuild the empty `database` and `photo_root` from it."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"archive: no file {archive}")
    vendor = _vendor(database)
    photo_root = Path(photo_root)
    with tempfile.TemporaryDirectory(prefix="dermis-restore-") as work:
        work_dir = Path(work)
        encrypted = _is_encrypted(archive)
        plain = archive
        if encrypted:
            if not key:
                raise BackupError("key: the archive is encrypted; set DERMIS_BACKUP_KEY")
            plain = work_dir / "archive.tar.gz"
            _decrypt_file(archive, plain, key)
        manifest = _extract_checked(plain, work_dir / "x")
        if manifest["database"]["vendor"] != vendor:
            raise BackupError(
                f"database: the backup is of {manifest['database']['vendor']}, "
                f"this instance uses {vendor}; restore into the same kind of database"
            )
        if any(photo_root.iterdir()) if photo_root.is_dir() else False:
            raise BackupError(f"photos: {photo_root} is not empty; restore into an empty folder")
        _require_empty(database, vendor)
        dump = work_dir / "x" / manifest["database"]["file"]
        if vendor == "sqlite":
            target = Path(database["NAME"])
            target.parent.mkdir(parents=True, exist_ok=True)
            src, dst = sqlite3.connect(dump), sqlite3.connect(target)
            try:
                with dst:
                    src.backup(dst)
            finally:
                dst.close()
                src.close()
        else:
            command = [
                _pg_tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={database['NAME']}",  # the rest of the connection: PG* variables
                str(dump),
            ]
            _run(command, database, "pg_restore")
        photos = [name for name in manifest["files"] if name.startswith("photos/")]
        for name in photos:
            target = photo_root / PurePosixPath(name).relative_to("photos")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work_dir / "x" / name, target)
    return Summary(archive, vendor, len(photos), encrypted)


def _extract_checked(plain: Path, into: Path) -> dict:
    """Extract every member the manifest lists, checking its SHA-256; anything else is refused."""
    into.mkdir()
    try:
        with tarfile.open(plain, "r:gz") as tar:
            try:
                manifest = json.load(tar.extractfile(MANIFEST))
            except (KeyError, TypeError, ValueError):  # missing, not a file, not JSON text
                raise BackupError("archive: no readable manifest.json") from None
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                found = manifest.get("format") if isinstance(manifest, dict) else None
                raise BackupError(f"archive: unknown format {found!r}")
            files: dict[str, str] = manifest.get("files")
            if not isinstance(files, dict):
                raise BackupError("archive: manifest.json lists no files")
            seen = set()
            for member in tar:
                if member.name == MANIFEST:
                    continue
                name = member.name
                if name not in files or not member.isfile() or not _safe(name):
                    raise BackupError(f"archive: unexpected member {name!r}")
                target = into / name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with tar.extractfile(member) as src, open(target, "wb") as dst:
                    for block in iter(lambda: src.read(CHUNK), b""):
                        digest.update(block)
                        dst.write(block)
                if digest.hexdigest() != files[name]:
                    raise BackupError(f"archive: {name} does not match its checksum")
                seen.add(name)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:  # a damaged gzip stream
        raise BackupError(f"archive: unreadable ({exc.__class__.__name__})") from None
    missing = sorted(set(files) - seen)
    if missing:
        raise BackupError(f"archive: missing {', '.join(missing[:5])}")
    return manifest


def _safe(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts


def _require_empty(database: dict, vendor: str) -> None:
    if vendor == "sqlite":
        path = Path(database["NAME"])
        if not path.exists():
            return
        with sqlite3.connect(path) as conn:
            tables = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()[0]
    else:
        import psycopg

        with psycopg.connect(**_pg_params(database)) as conn:
            tables = conn.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            ).fetchone()[0]
    if tables:
        raise BackupError(
            f"database: {database['NAME']} already has {tables} tables; "
            "restore into a new, empty database"
        )


# --- Encryption -----------------------------------------------------------------------------


def new_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _fernet(key: bytes):
    from cryptography.fernet import Fernet

    try:
        return Fernet(key)
    except ValueError:
        raise BackupError(
            "key: DERMIS_BACKUP_KEY is not a Fernet key (`dermis backup --new-key` makes one)"
        ) from None


def _encrypt_file(source: Path, target: Path, key: bytes) -> None:
    fernet = _fernet(key)
    with open(source, "rb") as src, open(target, "wb") as dst:
        dst.write(MAGIC)
        index = 0
        block = src.read(CHUNK)
        while True:
            following = src.read(CHUNK)
            last = not following
            token = fernet.encrypt(struct.pack(">QB", index, last) + block)
            dst.write(struct.pack(">I", len(token)) + token)
            if last:
                break
            block, index = following, index + 1


def _decrypt_file(source: Path, target: Path, key: bytes) -> None:
    from cryptography.fernet import InvalidToken

    fernet = _fernet(key)
    with open(source, "rb") as src, open(target, "wb") as dst:
        src.read(len(MAGIC))
        expected, finished = 0, False
        for token in _tokens(src):
            if finished:
                raise BackupError("archive: data after the last encrypted chunk")
            try:
                plain = fernet.decrypt(token)
            except InvalidToken:
                raise BackupError("key: the archive does not open with this key") from None
            index, last = struct.unpack(">QB", plain[:9])
            if index != expected:
                raise BackupError("archive: encrypted chunks are missing or out of order")
            dst.write(plain[9:])
            expected, finished = expected + 1, bool(last)
        if not finished:
            raise BackupError("archive: the encrypted archive is cut short")


def _tokens(src) -> Iterator[bytes]:
    while header := src.read(4):
        if len(header) < 4:
            raise BackupError("archive: the encrypted archive is cut short")
        (size,) = struct.unpack(">I", header)
        token = src.read(size)
        if len(token) < size:
            raise BackupError("archive: the encrypted archive is cut short")
        yield token


def _is_encrypted(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(len(MAGIC)) == MAGIC


# --- Helpers --------------------------------------------------------------------------------


def _vendor(database: dict) -> str:
    engine = database.get("ENGINE", "")
    if engine.endswith("sqlite3"):
        return "sqlite"
    if "postgresql" in engine:
        return "postgresql"
    raise BackupError(f"database: {engine!r} is not supported (SQLite or PostgreSQL)")


def _pg_params(database: dict) -> dict:
    params = {
        "dbname": database["NAME"],
        "user": database.get("USER") or None,
        "password": database.get("PASSWORD") or None,
        "host": database.get("HOST") or None,
        "port": str(database.get("PORT") or "") or None,
    }
    sslmode = (database.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        params["sslmode"] = sslmode
    return {k: v for k, v in params.items() if v is not None}


def _pg_env(database: dict) -> dict:
    names = {"dbname": "PGDATABASE", "user": "PGUSER", "password": "PGPASSWORD"}
    names |= {"host": "PGHOST", "port": "PGPORT", "sslmode": "PGSSLMODE"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update({names[k]: v for k, v in _pg_params(database).items()})
    return env


def _pg_tool(name: str) -> str:
    """`name` from DERMIS_PG_BIN, PATH, or the newest /usr/lib/postgresql/*/bin (Debian)."""
    configured = os.environ.get("DERMIS_PG_BIN", "").strip()
    if configured:
        return str(Path(configured) / name)
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if candidates:
        return candidates[-1]
    raise BackupError(f"{name}: not found; install PostgreSQL's client tools or set DERMIS_PG_BIN")


def _run(command: list[str], database: dict, what: str) -> None:
    result = subprocess.run(
        command, env=_pg_env(database), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["failed"])[-1]
        raise BackupError(f"{what}: {last}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _bytes_io(data: bytes):
    import io

    return io.BytesIO(data)


def _version() -> str:
    import dermis

    return dermis.__version__


def _latest_migrations() -> dict[str, str]:
    from django.db.migrations.recorder import MigrationRecorder

    latest: dict[str, str] = {}
    try:
        for app, name in MigrationRecorder.Migration.objects.values_list("app", "name"):
            latest[app] = max(latest.get(app, ""), name)
    except Exception:  # a database without Django's table: nothing to record
        return {}
    return dict(sorted(latest.items()))
