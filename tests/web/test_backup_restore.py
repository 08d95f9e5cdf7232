"""`dermis backup` then `dermis restore` into an empty instance: every row of every table (the
audit trail included) and every photo comes back byte for byte, on the database this test run
uses (CI runs the suite on SQLite and on PostgreSQL). A damaged archive or a wrong key is refused
before anything is written, and a non-empty target is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import dj_database_url
import pytest
from django.db import connection

from dermis.cli.main import main
from dermis.web import backup
from dermis.web.clinic.models import AuditEvent, Photo
from tests import factories
from tests.api.api_records import journey
from tests.scratch_postgres import scratch_database

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def photo_root(settings, tmp_path):
    settings.PHOTO_ROOT = tmp_path / "photos"
    settings.PHOTO_ROOT.mkdir()
    return settings.PHOTO_ROOT


@pytest.fixture
def clinic(world, photo_root):
    """A clinic with a whole record (photo on disk), a plan accepted through the services."""
    journey(world.nora, world.pat, photo_root)
    factories.accepted_plan(world.pat, world.nora)
    (photo_root / "thumbs").mkdir(exist_ok=True)
    (photo_root / "thumbs" / "extra.jpg").write_bytes(b"\xff\xd8thumb")
    assert AuditEvent.objects.exists() and Photo.objects.exists()
    return world


@pytest.fixture
def target(tmp_path):
    """An empty database of this run's kind, as a Django settings dict."""
    if connection.vendor == "sqlite":
        yield {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "restored.sqlite3")}
    else:
        with scratch_database("dermis_restore") as url:
            yield dj_database_url.parse(url)


def _tables() -> list[str]:
    return sorted(connection.introspection.table_names())


def _rows(database: dict, table: str) -> list[tuple]:
    if database["ENGINE"].endswith("sqlite3"):
        with sqlite3.connect(database["NAME"]) as conn:
            return sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
    import psycopg

    with psycopg.connect(**backup._pg_params(database)) as conn:
        return sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)


def _triggers(database: dict) -> list[str]:
    if database["ENGINE"].endswith("sqlite3"):
        with sqlite3.connect(database["NAME"]) as conn:
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            return sorted(r[0] for r in conn.execute(query))
    import psycopg

    with psycopg.connect(**backup._pg_params(database)) as conn:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        return sorted(r[0] for r in conn.execute(query))


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_a_backup_restores_every_record_photo_and_audit_row(
    clinic, target, tmp_path, photo_root, encrypted
):
    source = connection.settings_dict
    photos = photo_root
    key = backup.new_key().encode() if encrypted else None
    archive = tmp_path / "out" / "clinic.tar.gz"

    made = backup.create_backup(archive, source, photos, key)
    restored_photos = tmp_path / "restored-photos"
    done = backup.restore_backup(archive, target, restored_photos, key)

    assert made.photos == done.photos == len(_files(photos)) >= 2
    assert _files(restored_photos) == _files(photos)
    tables = _tables()
    assert "clinic_auditevent" in tables and "clinic_patient" in tables
    for table in tables:
        assert _rows(target, table) == _rows(source, table), table
    # The append-only audit trigger and the no-double-booking trigger come back too.
    assert _triggers(target) == _triggers(source) != []
    assert len(_rows(target, "clinic_auditevent")) == AuditEvent.objects.count() > 0
    assert archive.read_bytes().startswith(backup.MAGIC) == encrypted


def test_the_command_line_round_trip_and_a_non_empty_target_is_refused(
    clinic, tmp_path, monkeypatch, capsys
):
    key = backup.new_key()
    monkeypatch.setenv("DERMIS_BACKUP_KEY", key)
    archive = tmp_path / "cli.tar.gz.enc"

    assert main(["backup", str(archive), "--encrypt"]) == 0
    assert "encrypted" in capsys.readouterr().out
    # This instance is not empty: restoring over it is refused, nothing is touched.
    assert main(["restore", str(archive)]) == 2
    assert "not empty" in capsys.readouterr().err


def test_a_damaged_archive_or_a_wrong_key_is_refused(clinic, target, tmp_path, photo_root):
    key = backup.new_key().encode()
    archive = tmp_path / "a.tar.gz.enc"
    backup.create_backup(archive, connection.settings_dict, photo_root, key)
    out = tmp_path / "restored-photos"

    with pytest.raises(backup.BackupError, match="key: the archive does not open"):
        backup.restore_backup(archive, target, out, backup.new_key().encode())
    with pytest.raises(backup.BackupError, match="encrypted; set DERMIS_BACKUP_KEY"):
        backup.restore_backup(archive, target, out, None)
    cut = tmp_path / "cut.enc"
    cut.write_bytes(archive.read_bytes()[:-100])
    with pytest.raises(backup.BackupError, match=r"cut short|does not open"):
        backup.restore_backup(cut, target, out, key)

    plain = tmp_path / "p.tar.gz"
    backup.create_backup(plain, connection.settings_dict, photo_root, None)
    damaged = tmp_path / "damaged.tar.gz"
    data = bytearray(plain.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(backup.BackupError, match="archive"):
        backup.restore_backup(damaged, target, out, None)

    assert not out.exists() or not any(out.iterdir())
    assert backup._require_empty(target, backup._vendor(target)) is None


def test_damage_anywhere_is_refused_with_a_message(clinic, target, tmp_path, photo_root):
    """Whatever the damage breaks (the gzip header, a deflate block, a checksum, a tar header or
    a member), restoring says the archive is damaged; nothing is written."""
    plain = tmp_path / "p.tar.gz"
    backup.create_backup(plain, connection.settings_dict, photo_root, None)
    data = plain.read_bytes()
    out = tmp_path / "restored-photos"
    damaged = tmp_path / "damaged.tar.gz"
    for i in range(1, 120):
        position = len(data) * i // 120
        for fill in (b"\xff", b"\x5a"):
            damaged.write_bytes(data[:position] + fill * 32 + data[position + 32 :])
            with pytest.raises(backup.BackupError, match="archive"):
                backup.restore_backup(damaged, target, out, None)
            assert not out.exists() or not any(out.iterdir())


def test_a_restore_empties_the_shared_cache(clinic, tmp_path, monkeypatch, capsys):
    """What was kept by a clinic's schedule version was drawn from the database before the
    restore; the restored versions will give those numbers again to other content."""
    from django.core.cache import cache

    archive = tmp_path / "any.tar.gz"
    archive.write_bytes(b"")
    cache.set("dermis:diary:1:7:kept", "a page drawn before the restore")
    refused = backup.BackupError("archive: no readable manifest.json")
    monkeypatch.setattr(backup, "restore_backup", lambda *a: (_ for _ in ()).throw(refused))
    assert main(["restore", str(archive)]) == 2  # refused: nothing changed, nothing forgotten
    assert cache.get("dermis:diary:1:7:kept") is not None
    done = backup.Summary(archive, connection.vendor, 0, False)
    monkeypatch.setattr(backup, "restore_backup", lambda *a: done)
    assert main(["restore", str(archive)]) == 0
    assert cache.get("dermis:diary:1:7:kept") is None
    capsys.readouterr()
