"""Django's template engine, with each page's context let go as soon as the page is drawn.

A context that a page is drawn in holds everything the page shows (a list's rows with their
records), and Django's context is a reference cycle: each layer pushed onto it (`ContextDict`: the
request's context processors, every `{% with %}` and `{% include %}`) points back at it. Python's
reference counting cannot free a cycle, so every page's rows waited for the garbage collector:
296 objects a dashboard view, and a young-generation collection every 30 or so views of 2.5–3 ms.
Emptied once drawn, the context's layers are freed with it, at once.
"""

from __future__ import annotations

from django.template import TemplateDoesNotExist
from django.template.backends.django import DjangoTemplates, reraise
from django.template.backends.django import Template as DjangoTemplate
from django.template.context import make_context


class Template(DjangoTemplate):
    def render(self, context=None, request=None):
        context = make_context(context, request, autoescape=self.backend.engine.autoescape)
        try:
            return self.template.render(context)
        except TemplateDoesNotExist as exc:
            reraise(exc, self.backend)
        finally:
            # Its layers, each of which points back at it: the cycle (tests' copies keep theirs).
            context.dicts.clear()


class Templates(DjangoTemplates):
    def from_string(self, template_code):
        return Template(self.engine.from_string(template_code), self)

    def get_template(self, template_name):
        try:
            return Template(self.engine.get_template(template_name), self)
        except TemplateDoesNotExist as exc:
            reraise(exc, self)
