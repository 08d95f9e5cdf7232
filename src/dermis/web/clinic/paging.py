"""A page of a list and how many the list holds, with the list read once where the page itself
tells how many.

A search that finds fewer rows than a page holds needs no count: the rows before the page and the
page's own are all there are. A patient search by phone or name usually finds a handful, and its
count cost as much as its page (each a trigram search: 3 ms for a phone number among 100,000
patients), so the list page, the API and the FHIR search read it once. A full page, or an empty
one past the start, is counted as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.core.paginator import Page, Paginator


def page_and_total(
    rows: Sequence, offset: int, limit: int, total: Callable[[], int], *, counted: bool = False
) -> tuple[list, int]:
    """`rows[offset:offset + limit]` as a list, and how many `rows` holds (`total()` only where the
    page cannot tell, or where it was read with the page anyway: `counted`)."""
    page = list(rows[offset : offset + limit]) if limit > 0 else []
    if counted:
        return page, total()
    if limit > 0 and (0 < len(page) < limit or (not page and offset == 0)):
        return page, offset + len(page)
    return page, total()


def get_page(
    rows: Sequence, number: object, size: int, total: Callable[[], int], *, counted: bool = False
) -> Page:
    """`Paginator(rows, size).get_page(number)` with its count from `total()`, as Django gives it
    (a number that is not a whole number: the first page; one below 1 or past the end: the last),
    reading the page first so that a page that is not full answers the count."""
    pager = Paginator(rows, size)
    wanted = wanted_page(number)
    if wanted >= 1:
        page, pager.count = page_and_total(rows, (wanted - 1) * size, size, total, counted=counted)
        if page or wanted == 1:
            return Page(page, wanted, pager)
    else:
        pager.count = total()
    return pager.page(pager.num_pages)


def wanted_page(number: object) -> int:
    """The page asked for, as `get_page` reads it: a number that is not a whole number is the
    first page (one below 1 is the last: `get_page` finds it)."""
    try:
        return int(number) if number is not None else 1
    except (TypeError, ValueError):
        return 1
