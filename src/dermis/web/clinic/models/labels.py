"""`get_FOO_display()` from a table made once per field, for the models whose labels a long list
writes on every row (an appointment's kind and status, an audit event's action).

Django's own builds the field's whole table of choices anew on each call (`make_hashable` over
every choice: 15–18 µs, two of them a row of the dashboard's thirty). The label is the same: the
choices of these fields are fixed in the code, and a value not among them is written as itself.
"""

from __future__ import annotations

from django.utils.encoding import force_str
from django.utils.hashable import make_hashable

_TABLES: dict = {}


class QuickLabels:
    """A model mixin: its fields' `get_FOO_display` look the label up in a table kept per field."""

    def _get_FIELD_display(self, field):
        table = _TABLES.get(field)
        if table is None:
            table = _TABLES[field] = dict(make_hashable(field.flatchoices))
        value = getattr(self, field.attname)
        return force_str(table.get(make_hashable(value), value), strings_only=True)
