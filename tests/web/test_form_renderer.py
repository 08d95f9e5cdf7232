"""The form renderer writes select menus as Django's templates do, character for character."""

from __future__ import annotations

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


def test_a_select_whose_options_have_their_own_template_is_left_to_it():
    class Marked(forms.Select):
        option_template_name = "django/forms/widgets/input.html"

    widget = Marked(choices=[("a", "A")])
    theirs, ours = _both(widget, "x", "a")
    assert ours == theirs


def test_the_site_renders_forms_with_it(settings):
    from django.forms.renderers import get_default_renderer

    assert settings.FORM_RENDERER == "dermis.web.form_renderer.FormRenderer"
    assert isinstance(get_default_renderer(), FormRenderer)
