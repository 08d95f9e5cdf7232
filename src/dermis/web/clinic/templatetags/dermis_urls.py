"""`{% url %}` for every template (a builtin, settings.TEMPLATES): Django's tag, with links that
take whole-number arguments built from the name's shape (`dermis.web.url_shapes`) instead of
matching the URL patterns again for each row of a list."""

from __future__ import annotations

from django import template
from django.template import defaulttags
from django.utils.html import conditional_escape

from dermis.web.url_shapes import shaped

register = template.Library()


class ShapedURLNode(defaulttags.URLNode):
    def render(self, context):
        request = getattr(context, "request", None)
        if self.kwargs or getattr(request, "current_app", None):
            return super().render(context)
        url = shaped(self.view_name.resolve(context), [arg.resolve(context) for arg in self.args])
        if url is None:
            return super().render(context)
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    node = defaulttags.url(parser, token)
    node.__class__ = ShapedURLNode
    return node
