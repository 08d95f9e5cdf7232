"""Links built from a URL name's shape (`dermis.web.url_shapes`, and the `{% url %}` builtin that
uses it) are exactly what Django's `reverse` gives, for every named route of the project."""

from __future__ import annotations

import pytest
from django.template import Context, Engine, engines
from django.urls import NoReverseMatch, get_resolver, reverse, set_script_prefix

from dermis.web import url_shapes
from dermis.web.url_shapes import fast_reverse, shape_of

NUMBERS = (0, 7, 42, 123_456, url_shapes.SENTINEL - 1)


def _named_routes() -> list[tuple[str, int]]:
    """(name, number of arguments) of every named route, however deep its include."""
    out = set()
    resolver = get_resolver()
    for key, entries in resolver.reverse_dict.lists():
        if not isinstance(key, str):
            continue
        for possibilities, _pattern, _defaults, _converters in entries:
            for _result, params in possibilities:
                out.add((key, len(params)))
    return sorted(out)


ROUTES = _named_routes()


def test_the_project_has_numbered_routes_to_check():
    numbered = [name for name, n in ROUTES if n >= 1]
    assert len(ROUTES) > 100
    assert {"patient-detail", "recall-patient", "series-propose"} <= set(numbered)


@pytest.mark.parametrize(("name", "n"), ROUTES)
def test_every_named_route_gives_what_reverse_gives(name, n):
    for number in NUMBERS:
        args = [number + i for i in range(n)]
        try:
            expected = reverse(name, args=args)
        except NoReverseMatch:
            # A route whose arguments are not numbers: it has no shape, and reverse decides.
            assert shape_of(name, args) is None
            with pytest.raises(NoReverseMatch):
                fast_reverse(name, args)
            continue
        assert fast_reverse(name, args) == expected


def test_what_has_no_shape_is_left_to_reverse():
    assert shape_of("patient-detail", ["12"]) is None  # text, not a number
    assert shape_of("patient-detail", [-1]) is None
    assert shape_of("patient-detail", [True]) is None  # a bool is an int to Python, not a pk
    assert shape_of("admin:index", []) is None  # namespaced
    assert shape_of("no-such-page", [1]) is None
    with pytest.raises(NoReverseMatch):
        fast_reverse("no-such-page", [1])
    assert fast_reverse("patient-detail", ["12"]) == reverse("patient-detail", args=["12"])


def test_a_sub_path_deployment_gets_its_own_shapes():
    plain = fast_reverse("patient-detail", [5])
    try:
        set_script_prefix("/clinic/")
        assert fast_reverse("patient-detail", [5]) == "/clinic" + plain
        assert fast_reverse("patient-detail", [5]) == reverse("patient-detail", args=[5])
    finally:
        set_script_prefix("/")
    assert fast_reverse("patient-detail", [5]) == plain


def _both(source: str, context: dict) -> tuple[str, str]:
    """The same template through the project's engine and through an engine with Django's own
    `{% url %}` tag only."""
    ours = engines["django"].from_string(source).render(context)
    django_only = Engine().from_string(source).render(Context(context))
    return ours, django_only


def test_the_url_tag_renders_as_djangos_does():
    source = (
        "{% for p in ps %}<a href='{% url 'patient-detail' p %}'>"
        "{% url 'recall-patient' p %}?propose=maintenance</a>{% endfor %}"
        "{% url 'series-propose' 9 as link %}[{{ link }}]"
        "{% url 'patient-detail' text %}{% url 'dashboard' %}{% url name 4 %}"
    )
    context = {"ps": [1, 22, 333], "text": "55", "name": "patient-detail"}
    ours, django_only = _both(source, context)
    assert ours == django_only
    assert "/patients/22/" in ours


def test_the_url_tag_still_refuses_what_cannot_be_reversed():
    engine = engines["django"]
    with pytest.raises(NoReverseMatch):
        engine.from_string("{% url 'no-such-page' 3 %}").render({})
    # "as" swallows the failure, as Django's tag does
    assert engine.from_string("{% url 'no-such-page' 3 as x %}[{{ x }}]").render({}) == "[]"


def test_the_project_engine_uses_the_shaped_tag():
    from dermis.web.clinic.templatetags.dermis_urls import ShapedURLNode

    template = engines["django"].from_string("{% url 'patient-detail' 3 %}")
    nodes = template.template.nodelist.get_nodes_by_type(ShapedURLNode)
    assert len(nodes) == 1


@pytest.mark.parametrize("name", sorted({name for name, n in ROUTES if n == 1}))
def test_a_link_by_number_is_what_reverse_gives(name):
    link = url_shapes.by_number(name)
    # What has no shape (a negative number, text) is left to reverse, which decides.
    for value in (*NUMBERS, -1, "12"):
        try:
            expected = reverse(name, args=[value])
        except NoReverseMatch:
            with pytest.raises(NoReverseMatch):
                link(value)
            continue
        assert link(value) == expected
