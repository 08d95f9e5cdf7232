"""The form renderer writes select menus as Django's templates do, character for character."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st

from dermis.web.form_renderer import FormRenderer

DJANGO, OURS = DjangoTemplates(), FormRenderer()
TEXT = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x250) | st.sampled_from("<>&\"'")
)
VALUE = st.one_of(TEXT, st.integers(-(10**7), 10**7), st.none(), st.booleans())
LABEL = st.one_of(TEXT, st.integers(-(10**7), 10**7), TEXT.map(mark_safe))
CHOICES = st.lists(st.tuples(VALUE, LABEL), max_size=8)
GROUPED = st.lists(st.tuples(TEXT, CHOICES), max_size=3)
ATTRS = st.dictionaries(
    st.sampled_from(["class", "id", "data-x", "aria-describedby", "disabled", "required"]),
    st.one_of(TEXT, st.booleans(), st.integers(0, 99), TEXT.map(mark_safe)),
    max_size=4,
)


def _both(widget: forms.Widget, name: str, value) -> tuple[str, str]:
    return (
        widget.render(name, value, renderer=DJANGO),
        widget.render(name, value, renderer=OURS),
    )


@settings(max_examples=300)
@given(
    name=TEXT, choices=CHOICES, groups=GROUPED, attrs=ATTRS, picked=VALUE, multiple=st.booleans()
)
def test_a_select_reads_the_same_as_djangos(name, choices, groups, attrs, picked, multiple):
    menu = [*choices, *groups]
    widget = (forms.SelectMultiple if multiple else forms.Select)(attrs=attrs, choices=menu)
    value = [picked] if multiple else picked
    theirs, ours = _both(widget, name, value)
    assert ours == theirs


def test_lazy_labels_null_boolean_and_a_fields_own_markup_read_the_same():
    class Form(forms.Form):
        kind = forms.ChoiceField(choices=[("", "Any"), ("a", gettext_lazy("Treatment & care"))])
        yes = forms.NullBooleanField()
        when = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    for renderer in (DJANGO, OURS):
        Form.default_renderer = renderer
        if renderer is DJANGO:
            theirs = str(Form({"kind": "a", "yes": "true"}))
        else:
            ours = str(Form({"kind": "a", "yes": "true"}))
    assert ours == theirs
    assert '<option value="a" selected>Treatment &amp; care</option>' in ours


@settings(max_examples=300)
@given(
    name=TEXT,
    choices=CHOICES,
    groups=GROUPED,
    attrs=ATTRS,
    picked=st.lists(VALUE, max_size=3),
    radio=st.booleans(),
)
def test_checkboxes_and_radio_buttons_read_the_same_as_djangos(
    name, choices, groups, attrs, picked, radio
):
    menu = [*choices, *groups]
    widget = (forms.RadioSelect if radio else forms.CheckboxSelectMultiple)(
        attrs=attrs, choices=menu
    )
    theirs, ours = _both(widget, name, picked[0] if radio and picked else picked)
    assert ours == theirs


def test_a_checkbox_list_reads_as_django_writes_it():
    widget = forms.CheckboxSelectMultiple(
        attrs={"id": "id_days", "class": "row"}, choices=[(1, "Mon"), ("Week", [(2, "T<ue")])]
    )
    ours = widget.render("days", [2], renderer=OURS)
    assert ours == (
        '<div id="id_days" class="row"><div>\n'
        '    <label for="id_days_0"><input type="checkbox" name="days" value="1" '
        'id="id_days_0" class="row">\n Mon</label>\n\n</div>\n'
        "  <div><label>Week</label><div>\n"
        '    <label for="id_days_1_0"><input type="checkbox" name="days" value="2" '
        'id="id_days_1_0" class="row" checked>\n T&lt;ue</label>\n\n</div>\n'
        "  </div>\n</div>"
    )
    assert ours == widget.render("days", [2], renderer=DJANGO)


def test_options_without_a_wrapping_label_read_the_same():
    class Bare(forms.CheckboxSelectMultiple):
        def create_option(self, *args, **kwargs):
            return {**super().create_option(*args, **kwargs), "wrap_label": False}

    widget = Bare(attrs={"id": "d"}, choices=[("a", "A"), ("b", "B")])
    theirs, ours = _both(widget, "x", ["b"])
    assert ours == theirs
    assert "<label" not in ours


@pytest.mark.parametrize("kind", [forms.Select, forms.RadioSelect])
def test_a_menu_or_list_whose_options_have_their_own_template_is_left_to_it(kind):
    marked = type("Marked", (kind,), {"option_template_name": "django/forms/widgets/input.html"})
    theirs, ours = _both(marked(choices=[("a", "A")]), "x", "a")
    assert ours == theirs
    assert "<option" not in ours and "<label" not in ours


def test_the_site_renders_forms_with_it(settings):
    from django.forms.renderers import get_default_renderer

    assert settings.FORM_RENDERER == "dermis.web.form_renderer.FormRenderer"
    assert isinstance(get_default_renderer(), FormRenderer)


INPUT_WIDGETS = [
    forms.TextInput, forms.EmailInput, forms.NumberInput, forms.DateInput, forms.TimeInput,
    forms.DateTimeInput, forms.HiddenInput, forms.CheckboxInput, forms.URLInput, forms.SearchInput,
    forms.TelInput, forms.ColorInput, forms.FileInput,
    lambda attrs: forms.PasswordInput(attrs=attrs, render_value=True),
]  # fmt: skip
INPUT_VALUE = st.one_of(
    VALUE,
    st.dates(),
    st.times(),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT.map(mark_safe),
)


@settings(max_examples=300)
@given(make=st.sampled_from(INPUT_WIDGETS), name=TEXT, attrs=ATTRS, value=INPUT_VALUE)
def test_an_input_reads_the_same_as_djangos(make, name, attrs, value):
    theirs, ours = _both(make(attrs=attrs), name, value)
    assert ours == theirs


FIELD_KINDS = st.sampled_from(["text", "number", "date", "check", "choice", "radio", "many"])


def _form(kinds, labels, helps, required, auto_id):
    fields = {}
    rows = zip(kinds, labels, helps, required, strict=False)  # kinds sets how many fields
    for i, (kind, label, help_text, needed) in enumerate(rows):
        common = {"label": label, "help_text": help_text, "required": needed}
        choices = [("a", "A & <b>"), ("b", label or "B")]
        fields[f"f{i}"] = {
            "text": lambda c: forms.CharField(max_length=3, **c),
            "number": lambda c: forms.IntegerField(min_value=5, **c),
            "date": lambda c: forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **c),
            "check": lambda c: forms.BooleanField(**c),
            "choice": lambda c, ch=choices: forms.ChoiceField(choices=ch, **c),
            "radio": lambda c, ch=choices: forms.ChoiceField(
                choices=ch, widget=forms.RadioSelect, **c
            ),
            "many": lambda c, ch=choices: forms.MultipleChoiceField(
                choices=ch, widget=forms.CheckboxSelectMultiple, **c
            ),
        }[kind](common)
    form_class = type("Generated", (forms.Form,), fields)
    return lambda renderer, data: form_class(data, auto_id=auto_id, renderer=renderer)


@settings(max_examples=150)
@given(
    kinds=st.lists(FIELD_KINDS, min_size=1, max_size=5),
    labels=st.lists(st.one_of(TEXT, st.none(), st.just("")), min_size=5, max_size=5),
    helps=st.lists(
        st.one_of(st.just(""), TEXT, st.just("Use <em>dd/mm/yyyy</em>")), min_size=5, max_size=5
    ),
    required=st.lists(st.booleans(), min_size=5, max_size=5),
    auto_id=st.sampled_from(["id_%s", False, "x-%s"]),
    data=st.one_of(
        st.none(), st.dictionaries(st.sampled_from(["f0", "f1", "f2", "f3", "f4"]), TEXT)
    ),
)
def test_fields_labels_and_errors_read_the_same_as_djangos(
    kinds, labels, helps, required, auto_id, data
):
    """Whole generated forms, bound (with errors) or not: each field's group, label and errors,
    and the form as a whole."""
    make = _form(kinds, labels, helps, required, auto_id)
    theirs, ours = make(DJANGO, data), make(OURS, data)
    assert str(ours) == str(theirs)
    for mine, django in zip(ours, theirs, strict=True):
        assert mine.as_field_group() == django.as_field_group()
        assert mine.label_tag() == django.label_tag()
        assert mine.legend_tag() == django.legend_tag()
        assert str(mine.errors) == str(django.errors)
    assert str(ours.non_field_errors()) == str(theirs.non_field_errors())
