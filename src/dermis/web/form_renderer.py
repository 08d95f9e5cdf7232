"""The form renderer: Django's own (`DjangoTemplates`), except that the smallest and most used
of its templates are written in Python: select menus and their options, checkboxes and radio
buttons, the one-line `<input>` widgets, labels, error lists and the field group that holds
them (`field.html`).

Django renders each `<option>` through the template engine (an include of
`select_option.html`, which includes `attrs.html`): about 40 µs an option, so a menu of the
clinic's 40 staff costs 1.8 ms and a page of booking proposals, with a menu of times and rooms
for each visit, most of its time. A field is five or six such renders (its group, label,
widget, attributes and errors): about 1 ms a field, so the availability page's two small forms
took 5 ms and the series page's preferences 9 ms. The markup written here is the templates'
own, character for character, with the same escaping and localisation
(`tests/web/test_form_renderer.py` compares the two for generated menus, checkbox and radio
lists, inputs, labels, errors and whole forms); a select or list whose options use another
template is left to them, as is every other template.
"""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.safestring import SafeData, mark_safe

SELECT = "django/forms/widgets/select.html"
# Each of these is `{% include "django/forms/widgets/multiple_input.html" %}`, and each option
# template an include of `input_option.html`.
MULTIPLE = frozenset(
    ("django/forms/widgets/checkbox_select.html", "django/forms/widgets/radio.html")
)
INPUT_OPTIONS = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in ("checkbox_option", "radio_option", "input_option")
)
OPTION = "django/forms/widgets/select_option.html"
LABEL = "django/forms/label.html"
ERRORS = "django/forms/errors/list/default.html"
FIELD = "django/forms/field.html"
# Each of these is `{% include "django/forms/widgets/input.html" %}` and nothing else.
INPUTS = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        "text", "email", "number", "date", "time", "datetime", "password", "hidden",
        "checkbox", "url", "search", "tel", "color", "file",
    )
)  # fmt: skip
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


def _input(widget: dict) -> str:
    """`input.html`."""
    value = widget["value"]
    shown = f' value="{_formatted(value)}"' if value is not None else ""
    return (
        f'<input type="{_shown(widget["type"])}" name="{_shown(widget["name"])}"'
        f"{shown}{_attrs(widget['attrs'])}>"
    )


def _input_option(option: dict) -> str:
    """`checkbox_option.html` or `radio_option.html` (an include of `input_option.html`, which
    includes `input.html`), with each file's closing newline as the includes write it."""
    if not option["wrap_label"]:
        return _input(option) + "\n\n\n"
    where = option["attrs"].get("id")
    label_for = f' for="{_shown(where)}"' if where else ""
    return f"<label{label_for}>{_input(option)}\n {_shown(option['label'])}</label>\n\n"


def _multiple(widget: dict) -> str | None:
    """`multiple_input.html` (checkboxes and radio buttons), stripped as the renderer strips
    it; None when an option has a template of its own."""
    where, cls = widget["attrs"].get("id"), widget["attrs"].get("class")
    out = [
        "<div",
        f' id="{_shown(where)}"' if where else "",
        f' class="{_shown(cls)}"' if cls else "",
        ">",
    ]
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f"\n  <div><label>{_shown(group_name)}</label>")
        for option in group_choices:
            if option["template_name"] not in INPUT_OPTIONS:
                return None
            out.append(f"<div>\n    {_input_option(option)}</div>")
        if group_name:
            out.append("\n  </div>")
    out.append("\n</div>")
    return "".join(out).strip()


def _label(context: dict) -> str:
    """`label.html`, stripped."""
    if not context["use_tag"]:
        return _shown(context["label"]).strip()
    tag = _shown(context["tag"])
    return f"<{tag}{_attrs(context['attrs'] or {})}>{_shown(context['label'])}</{tag}>"


def _errors(errors) -> str:
    """`errors/list/ul.html` (through `default.html`)."""
    if not errors:
        return ""
    field_id = getattr(errors, "field_id", None)
    where = f' id="{_shown(field_id)}_error"' if field_id else ""
    items = "".join(f"<li>{_shown(error)}</li>" for error in errors)
    return f'<ul class="{_shown(errors.error_class)}"{where}>{items}</ul>'


def _field(field) -> str:
    """`field.html`, line by line, stripped."""
    if field.use_fieldset:
        described = field.aria_describedby
        by = f' aria-describedby="{_shown(described)}"' if described else ""
        legend = _shown(field.legend_tag()) if field.label else ""
        head = f"\n  <fieldset{by}>\n  {legend}\n"
    else:
        head = f"\n  {_shown(field.label_tag()) if field.label else ''}\n"
    help_text = ""
    if field.help_text:
        where = f' id="{_shown(field.auto_id)}_helptext"' if field.auto_id else ""
        help_text = f'<div class="helptext"{where}>{field.help_text}</div>'
    tail = "</fieldset>" if field.use_fieldset else ""
    return f"{head}\n{help_text}\n{_shown(field.errors)}\n{_shown(field)}{tail}\n".strip()


class FormRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        if template_name == SELECT:
            written = _select(context["widget"])
            if written is not None:
                return written
        elif template_name in MULTIPLE:
            written = _multiple(context["widget"])
            if written is not None:
                return written
        elif template_name in INPUTS:
            return _input(context["widget"]).strip()
        elif template_name == LABEL:
            return _label(context)
        elif template_name == ERRORS:
            return _errors(context["errors"])
        elif template_name == FIELD and set(context) == {"field"}:
            return _field(context["field"])
        return super().render(template_name, context, request=request)
