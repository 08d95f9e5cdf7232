"""The form renderer: Django's own (`DjangoTemplates`), except that select menus and their
options are written in Python.

Django renders each `<option>` through the template engine (an include of
`select_option.html`, which includes `attrs.html`): about 40 µs an option, so a menu of the
clinic's 40 staff costs 1.8 ms and a page of booking proposals, with a menu of times and rooms
for each visit, most of its time. The markup written here is the templates' own, character for
character, with the same escaping and localisation (`tests/web/test_form_renderer.py` compares
the two for generated menus); any select whose options use another template is left to them.
"""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.safestring import SafeData, mark_safe

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"
_CONTEXT = Context(autoescape=True)  # what `{{ … }}` in a widget template sees


def _shown(value) -> str:
    """`{{ value }}`: localised, then escaped unless already safe."""
    return render_value_in_context(value, _CONTEXT)


def _formatted(value) -> str:
    """`{{ value|stringformat:'s' }}` (a safe value stays safe: the filter is `is_safe`)."""
    text = str(value)  # the filter's "%s" % value (a tuple is str()-ed first, as it does)
    return _shown(mark_safe(text) if isinstance(value, SafeData) else text)


def _attrs(attrs: dict) -> str:
    """`attrs.html`."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(
            f" {_shown(name)}" if value is True else f' {_shown(name)}="{_formatted(value)}"'
        )
    return "".join(out)


def _option(option: dict) -> str:
    """`select_option.html`, with the file's closing newline as the include writes it."""
    return (
        f'<option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
        f"{_shown(option['label'])}</option>\n"
    )


def _select(widget: dict) -> str | None:
    """`select.html`, stripped as the renderer strips it; None when an option has a template of
    its own."""
    out = [f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{_shown(group_name)}">')
        for option in group_choices:
            if option["template_name"] != OPTION:
                return None
            out.append("\n  " + _option(option))
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out).strip()


class FormRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        if template_name == SELECT:
            written = _select(context["widget"])
            if written is not None:
                return written
        return super().render(template_name, context, request=request)
