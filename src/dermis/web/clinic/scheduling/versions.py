"""What a page drew from a clinic's schedule, kept while nothing it shows has changed.

The database adds one to a clinic's schedule version (`models.ScheduleVersion`, migration 0029)
in every transaction that changes what its diary, a calendar feed or its availability page
shows. A page read by the version, the page's own parameters and the time it stays right until (a
booking slot passing, an appointment starting or ending) is the same page while all three stand:
`kept` draws it once and keeps it in the shared cache, compressed, and each worker process keeps
what it read or drew there in front of it. A page with forms is kept with a mark where its CSRF
token goes (`CSRF_MARK`), and each request puts its own token there.

The recall worklist is kept the same way by the clinic's recall version (`models.RecallVersion`,
migration 0031), which the database adds one to whenever anything the worklist shows changes
(`kept_recall_value`).

The version is read before what the page shows, so a page is never kept under a version newer
than its rows (drawn from rows newer than its version, it is at worst drawn again). Nothing is
kept or taken inside a transaction: there the rows may be uncommitted, and a version rolled back
is given again to the next change.
"""

from __future__ import annotations

import hashlib
import pickle
import zlib
from collections.abc import Callable
from datetime import datetime

from django.core.cache import cache
from django.db import connections, router

import dermis
from dermis.web.clinic.models import RecallVersion, ScheduleVersion
from dermis.web.clinic.prepared import PreparedValues
from dermis.web.clinic.process_memo import ProcessMemo

CSRF_MARK = "\x00csrf\x00"  # no text from the database holds a NUL
KEEP_AT_MOST = 3600  # seconds: a page nobody asks for again leaves the cache within the hour
COMPRESSION = 1  # zlib's fastest level: a diary week is 150 KB of HTML, 12 KB so
# This process's copies, compressed as the cache holds them (clinic/process_memo.py): a key holds
# the schedule version, and the time a copy stays right is checked as the shared cache's is.
_HERE = ProcessMemo(size=256)
# Values given as read (`kept_recall_value`): the recall worklist's pages, by the key's parts.
_LIVE = ProcessMemo(size=64)

VERSION = PreparedValues(
    ScheduleVersion,
    lambda clinic: ScheduleVersion.objects.filter(clinic_id=clinic).values_list("n", flat=True),
    flat=True,
    clinic=int,
)


RECALL_VERSION = PreparedValues(
    RecallVersion,
    lambda clinic: RecallVersion.objects.filter(clinic_id=clinic).values_list("n", flat=True),
    flat=True,
    clinic=int,
)


def schedule_version(clinic_id: int) -> int:
    """The clinic's schedule version (0 before anything of its schedule was written)."""
    found = VERSION.rows(clinic=clinic_id)
    return found[0] if found else 0


def recall_version(clinic_id: int) -> int:
    """The clinic's recall version (0 before anything its worklist shows was written)."""
    found = RECALL_VERSION.rows(clinic=clinic_id)
    return found[0] if found else 0


def kept(
    what: str,
    clinic_id: int,
    parts: tuple,
    now: datetime,
    draw: Callable[[], tuple[str, datetime | None]],
    *,
    version: int | None = None,
) -> str:
    """The text `draw()` gives for these `parts` of this clinic's schedule, from the shared cache
    when it was drawn for the same schedule version and is still right at `now`; else drawn, and
    kept. `draw` gives the text and the first moment it is no longer right (None: only a change
    to the schedule makes it wrong). `version`: as `kept_value`'s."""
    return _kept(what, clinic_id, parts, now, draw, str.encode, bytes.decode, version)


def kept_value(
    what: str,
    clinic_id: int,
    parts: tuple,
    now: datetime,
    draw: Callable[[], tuple[object, datetime | None]],
    *,
    version: int | None = None,
):
    """As `kept`, for a value of plain data (what a slot search reads of the schedule), pickled
    as the cache pickles what it holds. `version`: the clinic's schedule version, where the caller
    read it before the rows the value is drawn from (else it is read here, before drawing)."""
    return _kept(what, clinic_id, parts, now, draw, _pickled, pickle.loads, version)


def kept_recall_value(
    what: str,
    clinic_id: int,
    parts: tuple,
    now: datetime,
    draw: Callable[[], tuple[object, datetime | None]],
    *,
    version: int | None = None,
):
    """As `kept_value`, kept by the clinic's recall version (read here, before drawing, unless
    the caller read it before the rows: `version`) instead of its schedule version; and given as
    this process read or drew it: the same object to each of its requests while it is right
    (`_LIVE`), which they only read (what they draw from it may be kept on it:
    `recall_list.Page.drawn`)."""
    if in_transaction():
        return draw()[0]
    if version is None:
        version = recall_version(clinic_id)
    live_key = (what, clinic_id, version, parts)
    found = _LIVE.get(live_key)
    if _right(found, now):
        return found[1]
    value, until = _kept_until(what, clinic_id, parts, now, draw, _pickled, pickle.loads, version)
    _LIVE.put(live_key, (until, value))
    return value


def in_transaction() -> bool:
    """Whether reads here are inside a transaction: nothing is kept or taken there."""
    return connections[router.db_for_read(ScheduleVersion)].in_atomic_block


def _pickled(value) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _right(found: tuple | None, now: datetime) -> bool:
    """Whether a kept (until, body) is there and still right at `now`."""
    return found is not None and (found[0] is None or now < found[0])


def _kept(what, clinic_id, parts, now, draw, dump: Callable, load: Callable, version=None):
    if in_transaction():
        return draw()[0]
    return _kept_until(what, clinic_id, parts, now, draw, dump, load, version)[0]


def _kept_until(what, clinic_id, parts, now, draw, dump: Callable, load: Callable, version=None):
    """(the value, the moment it stops being right) from this process's copy, the shared cache's,
    or drawn and kept in both."""
    if version is None:
        version = schedule_version(clinic_id)
    # The release too: a new one may draw the page otherwise.
    said = hashlib.sha256(repr((dermis.__version__, parts)).encode()).hexdigest()[:32]
    key = f"dermis:{what}:{clinic_id}:{version}:{said}"
    found = _HERE.get(key)
    if not _right(found, now):  # not kept by this process, or no longer right: the shared cache's
        found = cache.get(key)
        if _right(found, now):
            _HERE.put(key, found)
    if _right(found, now):
        return load(zlib.decompress(found[1])), found[0]
    value, until = draw()
    seconds = KEEP_AT_MOST if until is None else min(KEEP_AT_MOST, (until - now).total_seconds())
    if seconds >= 1:
        entry = (until, zlib.compress(dump(value), COMPRESSION))
        cache.set(key, entry, int(seconds))
        _HERE.put(key, entry)
    return value, until
