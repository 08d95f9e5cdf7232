"""`RowChoiceField`: a `ModelChoiceField` whose choices are read once, in one query.

Django's own reads its choices with `queryset.iterator()` every time they are listed, which on
PostgreSQL opens a server-side cursor (DECLARE, FETCH, CLOSE: three round trips) per select on the
page. The forms here list a clinic's practitioners, locations, plans or sessions: a handful of
rows, read once with the queryset and kept in its cache for the rest of the request. A submitted
choice is looked up among the same rows (Django's asks the database again, with `get`), so a
form that is validated and then shown again reads its choices once.

`of_rows` gives a field rows read already (a clinic's practitioners or locations, read through
a query composed once per process): the field then asks the database nothing.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator


class _RowsIterator(ModelChoiceIterator):
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for row in self.queryset:  # evaluated once; the queryset keeps the rows
            yield self.choice(row)

    def __len__(self):
        return len(self.queryset) + (1 if self.field.empty_label is not None else 0)


def of_rows(queryset, rows: list):
    """`queryset` holding `rows` as what it read: they must be the rows it would read, in its
    order (a `RowChoiceField` given it lists and validates them without a query)."""
    queryset._result_cache = list(rows)
    queryset._prefetch_done = True
    return queryset


class RowChoiceField(forms.ModelChoiceField):
    iterator = _RowsIterator

    def _set_queryset(self, queryset):
        if queryset is not None and queryset._result_cache is not None:  # `of_rows`
            self._queryset = queryset  # as it is: Django's copy (`.all()`) would read again
            self.widget.choices = self.choices
        else:
            super()._set_queryset(queryset)

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if self.to_field_name or isinstance(value, self.queryset.model):
            return super().to_python(value)
        self.validate_no_null_characters(value)
        try:
            key = self.queryset.model._meta.pk.to_python(value)
        except (ValueError, TypeError, ValidationError):
            key = None  # not an id: no row has it
        if key is not None:
            for row in self.queryset:  # the rows the menu lists, read once
                if row.pk == key:
                    return row
        raise ValidationError(
            self.error_messages["invalid_choice"],
            code="invalid_choice",
            params={"value": value},
        )
