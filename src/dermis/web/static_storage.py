"""Static files in production: content-hashed names (cached for a year) with gzip copies.

`collectstatic` runs at each production start (`dermis serve`); `collect_if_changed` skips it
when no source file changed since the last run, so a restart is quick.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage

STAMP = ".dermis-static-stamp"


class DermisStaticStorage(CompressedManifestStaticFilesStorage):
    """gzip only: brotli at its highest quality takes minutes on a two-core machine, and the
    reverse proxy may compress on its own. Source maps are not compressed (rarely fetched).

    A name's URL is worked out once: the manifest is read when the process starts and does not
    change while it serves, and looking a name up in it (cleaning, splitting and quoting the
    name each time) took 100–150 µs of every `{% static %}`, on every page."""

    URLS_KEPT = 1024  # names the templates ask for; any beyond are looked up each time

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name, force=False):
        if force or settings.DEBUG:  # Django's own rules: an unhashed name when debugging
            return super().url(name, force)
        try:
            return self._urls[name]
        except (KeyError, TypeError):
            found = super().url(name)
            if isinstance(name, str) and len(self._urls) < self.URLS_KEPT:
                self._urls[name] = found
            return found

    def post_process(self, *args, **kwargs):
        # collectstatic writes a new manifest: names kept from the old one would be stale.
        self._urls.clear()
        try:
            yield from super().post_process(*args, **kwargs)
        finally:
            self._urls.clear()

    def create_compressor(self, **kwargs):
        kwargs["use_brotli"] = False
        return super().create_compressor(**kwargs)


def sources_signature() -> str:
    """A digest of every source static file's name, size and modification time."""
    from django.contrib.staticfiles import finders

    digest = hashlib.sha256()
    for finder in finders.get_finders():
        for path, storage in sorted(finder.list([]), key=lambda item: item[0]):
            stat = Path(storage.path(path)).stat()
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def collect_if_changed() -> bool:
    """Run `collectstatic` unless the sources are those of the last run; True when it ran."""
    from django.conf import settings
    from django.core.management import call_command

    stamp = Path(settings.STATIC_ROOT) / STAMP
    signature = sources_signature()
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.is_file() and stamp.is_file() and stamp.read_text() == signature:
        return False
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp.write_text(signature)
    return True
