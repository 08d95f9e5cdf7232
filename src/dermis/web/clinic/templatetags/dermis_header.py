"""`{% kept_header %}…{% endkept_header %}` (a builtin, settings.TEMPLATES): the site's header,
which every page draws alike for the same person, drawn once by each worker for each person and
kept (0.15 ms of the 0.35 ms a page's frame took: seventeen links and their conditions).

What it holds is everything the header shows: who is signed in (their name, role, clinic and
whether they see clinical content), the language and the address prefix its links are written
with, and the release. Each request's CSRF token goes into the log-out form where the kept header
holds a mark. Without a token to put there (a page drawn outside a request) it is drawn anew."""

from __future__ import annotations

from django import template
from django.urls import get_script_prefix, get_urlconf
from django.utils.translation import get_language

import dermis
from dermis.web.clinic.process_memo import ProcessMemo

register = template.Library()

MARK = "\x00csrf-header\x00"  # no text from the database holds a NUL
HEADERS = ProcessMemo(size=256)


def _key(context) -> tuple | None:
    token = context.get("csrf_token")
    if not token or str(token) == "NOTPROVIDED":
        return None
    user, staff = context.get("user"), context.get("staff")
    who = None
    if user is not None and user.is_authenticated:
        who = (user.pk, user.get_username())
    member = None
    if staff is not None:
        try:
            role = (staff.role, staff.get_role_display(), staff.is_admin)
            member = (staff.pk, staff.display_name, role, staff.clinic.name)
        except AttributeError:  # a page's own `staff` that is not a member of staff: drawn
            return None
    place = (get_language(), get_script_prefix(), get_urlconf())
    return (dermis.__version__, place, who, member, bool(context.get("clinical")))


class KeptHeaderNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        key = _key(context)
        if key is None:
            return self.nodelist.render(context)
        kept = HEADERS.get(key)
        if kept is None:
            with context.push(csrf_token=MARK):
                kept = self.nodelist.render(context)
            HEADERS.put(key, kept)
        return kept.replace(MARK, str(context.get("csrf_token")))


@register.tag
def kept_header(parser, token):
    if len(token.split_contents()) != 1:
        raise template.TemplateSyntaxError("{% kept_header %} takes no arguments")
    nodelist = parser.parse(("endkept_header",))
    parser.delete_first_token()
    return KeptHeaderNode(nodelist)
