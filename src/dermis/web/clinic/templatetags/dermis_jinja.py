"""`{% jinja "name" %}` (a builtin, settings.TEMPLATES): a Jinja2 template (`dermis/web/jinja.py`)
rendered inside a Django template with the page's whole context, for a long list's rows."""

from __future__ import annotations

from django import template
from django.template import engines
from django.utils.safestring import mark_safe

from dermis.web.jinja import per_render

register = template.Library()


class JinjaNode(template.Node):
    def __init__(self, name: str):
        self.name = name
        self._template = None

    def render(self, context):
        if self._template is None:
            # The engine keeps compiled templates itself; this saves its lookup on every row list.
            self._template = engines["jinja2"].env.get_template(self.name)
        # With what its rows ask of the request for each date and link, looked up once.
        return mark_safe(self._template.render(context.flatten() | per_render()))


@register.tag
def jinja(parser, token):
    """`{% jinja "clinic/…/_rows.html" %}`"""
    bits = token.split_contents()
    if len(bits) != 2 or bits[1][0] not in "\"'" or bits[1][0] != bits[1][-1]:
        raise template.TemplateSyntaxError("{% jinja %} takes one quoted template name")
    return JinjaNode(bits[1][1:-1])
