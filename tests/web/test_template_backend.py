"""A page's context is freed as soon as the page is drawn, not left to the garbage collector
(dermis/web/template_backend.py): what a page shows goes with it."""

from __future__ import annotations

import gc
import weakref

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import engines
from django.template.backends.django import DjangoTemplates
from django.test import RequestFactory


class Row:
    """Something a page shows."""


def _request():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()  # as the middleware gives it (the context processors read it)
    return request


@pytest.mark.parametrize("with_request", [False, True])
def test_what_a_page_showed_is_freed_without_the_collector(with_request):
    template = engines["django"].from_string(
        "{% with n=rows|length %}{% for r in rows %}{{ n }}{% endfor %}{% endwith %}"
    )
    request = _request() if with_request else None
    row = Row()
    gone = weakref.ref(row)
    gc.disable()
    try:
        assert template.render({"rows": [row]}, request) == "1"
        del row
        assert gone() is None  # freed by reference counting: nothing held it in a cycle
    finally:
        gc.enable()


def test_djangos_own_engine_would_have_kept_it_for_the_collector():
    """Without the change (and so the test above could fail): a page drawn for a request is
    drawn in a context that is a cycle, which keeps what it showed until the collector runs."""
    own = DjangoTemplates(
        {"NAME": "own", "DIRS": [], "APP_DIRS": False, "OPTIONS": {}}
    ).from_string("{% with n=rows|length %}{{ n }}{% endwith %}")
    row = Row()
    gone = weakref.ref(row)
    gc.disable()
    try:
        assert own.render({"rows": [row]}, _request()) == "1"
        del row
        assert gone() is not None
        gc.collect()
        assert gone() is None
    finally:
        gc.enable()
