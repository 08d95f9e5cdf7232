"""FHIR JSON kept by what it holds: the same record gives the same JSON, so it is validated and
written out once, not on every export, read or search (validating and writing out a record of
sixty resources took about as long as reading it). Nothing needs forgetting: a changed record
holds something else, and the library's release is part of what is held.

- A patient's bundle (`patient_bundle_json`) is kept in the shared cache, compressed, by the
  SHA-256 of what its resources hold, and each process keeps the bundles it read or wrote there in
  front of it (`clinic/process_memo.py`); each export gives its own time. Each process also keeps
  a bundle by the patient's record version (`_version_key`), so that a bundle asked for again
  with nothing changed is not read (a round trip of twelve reads) nor gathered (0.7 ms for the
  benchmark's patient) nor its resources held.
- A resource read or found by a search (`written`) is kept by its process.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections import OrderedDict
from datetime import UTC, datetime

import fhir.resources
from django.core.cache import cache
from django.utils import timezone

import dermis
from dermis.web.clinic import models as m
from dermis.web.clinic.patients import record_version
from dermis.web.clinic.process_memo import ProcessMemo
from dermis.web.clinic.together import read_together, row_of
from dermis.web.fhir import reads as fhir_reads
from dermis.web.fhir.export import Refs, Said, bundle_from, gathered

KEEP_SECONDS = 24 * 3600
# The bundle's time while it is kept: replaced by the time of each export.
KEPT_AT = datetime(1900, 1, 1, tzinfo=UTC).isoformat()
NOW = "\x00"  # where a kept bundle's time goes

# Bundles' JSON (with the mark for their time) this process read from the shared cache or wrote:
# a bundle asked for again is neither fetched nor decompressed (a round trip and 0.1–0.3 ms).
_BUNDLES = ProcessMemo(size=64)

WRITTEN_KEPT = 4096  # resources' JSON kept by each process (about 5 MB at most)
_written: OrderedDict[bytes, str] = OrderedDict()


def written(said: Said) -> str:
    """The JSON (without empty elements) of the resource `said` says, validated: kept by this
    process by what the resource holds, so a resource asked for again (a search, a read) is not
    validated and written out again while nothing in it changed. Nothing needs forgetting: a
    changed resource holds something else."""
    kind, data = said
    key = hashlib.sha256(repr((fhir.resources.__version__, kind.__name__, data)).encode()).digest()
    text = _written.get(key)
    if text is None:
        text = kind.model_validate(data).model_dump_json(exclude_none=True)
        _written[key] = text
        if len(_written) > WRITTEN_KEPT:
            _written.popitem(last=False)
    else:
        _written.move_to_end(key)
    return text


def patient_bundle_json(p: m.Patient, ref: Refs | None = None) -> str:
    """`export.patient_bundle(p, ref)` as JSON without empty elements, kept in the shared cache
    by what its resources hold (and the library's release): validated and written out again only
    when something in it changed. Each export gives its own time."""
    ref = ref or Refs(p.clinic)
    key = _version_key(p, ref, record_version.of(p.pk, p.clinic_id))
    text = _BY_VERSION.get(key) if key else None
    if text is None:
        with read_together(*fhir_reads.of(p)):
            said = gathered(p, ref)
        text = _bundle_text(p, ref, said)
        if key:
            _BY_VERSION.put(key, text)
    now = timezone.now().astimezone(UTC).isoformat().replace("+00:00", "Z")
    return text.replace(NOW, now, 1)


# Bundles' JSON (with the mark for their time) by the record version they were gathered for.
_BY_VERSION = ProcessMemo(size=64)


def _version_key(p: m.Patient, ref: Refs, version: tuple[int, int] | None) -> str:
    """What a bundle is gathered from, as one digest: the patient's record version and their
    clinic's reference version (`patients.record_version`: every other row it holds, each table
    `reads.of` reads watched by the database's triggers, as a test holds it to), the patient's and
    the clinic's rows, the references' kind and slug, the time zone, and the releases (Dermis's
    and the FHIR library's). '' without a version (inside a transaction): then it is gathered."""
    if version is None:
        return ""
    parts = (
        dermis.__version__,
        fhir.resources.__version__,
        (type(ref).__name__, ref.slug),
        version,
        [row_of(p), row_of(p.clinic)],
        timezone.get_current_timezone_name(),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _bundle_text(p: m.Patient, ref: Refs, said: list[Said]) -> str:
    """The bundle's JSON with the mark for its time, from the shared cache by what it holds."""
    held = repr((fhir.resources.__version__, type(ref).__name__, ref.slug, p.pk, said))
    key = f"dermis:fhir-bundle-z:{hashlib.sha256(held.encode()).hexdigest()}"
    text = _BUNDLES.get(key)
    if text is None:
        kept = cache.get(key)
        if kept is not None:
            text = zlib.decompress(kept).decode()
        else:
            text = bundle_from(said, ref, p, KEPT_AT).model_dump_json(exclude_none=True)
            # The time as the library wrote it, made a mark no JSON text holds (a raw NUL).
            stamp = json.dumps({"timestamp": json.loads(text)["timestamp"]}, separators=(",", ":"))
            text = text.replace(stamp[1:-1], f'"timestamp":"{NOW}"', 1)
            cache.set(key, zlib.compress(text.encode()), KEEP_SECONDS)
        _BUNDLES.put(key, text)
    return text
