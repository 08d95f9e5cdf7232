"""Production's static storage works out a name's hashed URL once, and anew after collectstatic."""

from __future__ import annotations

import pytest
from django.core.files.storage import FileSystemStorage

from dermis.web.static_storage import DermisStaticStorage


@pytest.fixture
def collected(tmp_path):
    """A source folder, and production's storage collecting from it (as collectstatic does)."""
    source = FileSystemStorage(location=tmp_path / "source")
    storage = DermisStaticStorage(location=tmp_path / "root", base_url="/static/")

    def collect(text: str) -> None:
        source.delete("app/x.css")
        source.save("app/x.css", _file(text))
        storage.delete("app/x.css")
        storage.save("app/x.css", _file(text))
        list(storage.post_process({"app/x.css": (source, "app/x.css")}))

    return storage, collect


def _file(text: str):
    from django.core.files.base import ContentFile

    return ContentFile(text.encode())


def test_a_name_is_looked_up_in_the_manifest_once(collected, monkeypatch):
    storage, collect = collected
    collect("a { color: red }")
    looked_up = []
    stored_name = storage.stored_name
    monkeypatch.setattr(
        storage, "stored_name", lambda name: looked_up.append(name) or stored_name(name)
    )
    first = storage.url("app/x.css")
    assert (
        first.startswith("/static/app/x.")
        and first.endswith(".css")
        and first != "/static/app/x.css"
    )
    assert storage.url("app/x.css") == first
    assert looked_up == ["app/x.css"]
    # A name the manifest lacks is an error each time, and is not kept.
    with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
        storage.url("app/missing.css")
    with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
        storage.url("app/missing.css")


def test_collecting_again_gives_the_new_files_url(collected):
    storage, collect = collected
    collect("a { color: red }")
    before = storage.url("app/x.css")
    collect("a { color: blue }")
    after = storage.url("app/x.css")
    assert after != before
    assert storage.exists(after.removeprefix("/static/"))


def test_debug_and_force_follow_djangos_rules(collected, settings):
    storage, collect = collected
    collect("a { color: red }")
    hashed = storage.url("app/x.css")
    settings.DEBUG = True
    assert storage.url("app/x.css") == "/static/app/x.css"
    assert storage.url("app/x.css", force=True) == hashed
    settings.DEBUG = False
    assert storage.url("app/x.css") == hashed
