"""Showing a service's refusal on a page: beside its field when the form has one, else above it."""

from __future__ import annotations

from django import forms

from dermis.core.errors import InputError


def show(form: forms.Form, err: InputError, aliases: dict[str, str] | None = None) -> None:
    """Add `err` to `form`: on the field it names (or its alias), else as a form-wide error.

    A field the service names with a path ("intake.isotretinoin_last_dose") lands on the form
    field with that last name, when there is one."""
    name = (aliases or {}).get(err.field, err.field)
    last = name.rsplit(".", 1)[-1].split("[", 1)[0]
    message = sentence(err.message)
    for candidate in (name, last):
        if candidate in form.fields:
            form.add_error(candidate, message)
            return
    form.add_error(
        None, f"{err.field}: {err.message}" if err.field not in ("", "form") else message
    )


def sentence(message: str) -> str:
    """A service's message ("cannot be in the future") as a sentence for a page."""
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."
