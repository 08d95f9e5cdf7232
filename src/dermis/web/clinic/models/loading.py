"""A model mixin: a row read with all its columns becomes an instance without `Model.__init__`.

Django builds each instance a query reads through `Model.__init__`, which sets the columns one by
one through `setattr` and sends `pre_init` and `post_init` (0.9-1.9 ms for 130 patients or
appointments here, 6-14 µs each; a recall worklist view builds about 130 instances, the audit log
50 events and their users). `from_db` is Django's documented place to change how a row is loaded
(docs: "Customizing model loading"): here the columns go into the instance's dictionary at once,
as `__init__` leaves them (0.2-0.4 ms for the same 130). Where a signal has receivers for the
model, or some columns were deferred, Django's own way is taken. tests/web/test_fast_load.py
compares every model's instances with Django's.
"""

from __future__ import annotations

from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

_COLUMNS: dict[type, tuple[str, ...]] = {}


class FastLoad:
    @classmethod
    def from_db(cls, db, field_names, values):
        columns = _COLUMNS.get(cls)
        if columns is None:
            columns = _COLUMNS[cls] = tuple(f.attname for f in cls._meta.concrete_fields)
        if (
            len(values) != len(columns)
            or pre_init.has_listeners(cls)
            or post_init.has_listeners(cls)
        ):
            return super().from_db(db, field_names, values)
        new = cls.__new__(cls)
        state = ModelState()
        state.adding, state.db = False, db
        new._state = state
        new.__dict__.update(zip(columns, values, strict=True))
        return new
