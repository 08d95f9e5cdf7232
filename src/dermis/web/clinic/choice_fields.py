"""`RowChoiceField`: a `ModelChoiceField` whose choices are read once, in one query.

Django's own reads its choices with `queryset.iterator()` every time they are listed, which on
PostgreSQL opens a server-side cursor (DECLARE, FETCH, CLOSE: three round trips) per select on the
page. The forms here list a clinic's practitioners, locations, plans or sessions: a handful of
rows, read once with the queryset and kept in its cache for the rest of the request.
"""

from __future__ import annotations

from django import forms
from django.forms.models import ModelChoiceIterator


class _RowsIterator(ModelChoiceIterator):
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for row in self.queryset:  # evaluated once; the queryset keeps the rows
            yield self.choice(row)

    def __len__(self):
        return len(self.queryset) + (1 if self.field.empty_label is not None else 0)


class RowChoiceField(forms.ModelChoiceField):
    iterator = _RowsIterator
