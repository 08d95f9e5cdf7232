"""A page and its count read once where the page tells the count (clinic/paging.py): the same
page and count as Django's paginator gives, whatever the page number asked."""

from __future__ import annotations

from django.core.paginator import Paginator
from hypothesis import given
from hypothesis import strategies as st

from dermis.web.clinic.paging import get_page, page_and_total

NUMBERS = st.one_of(
    st.none(),
    st.integers(min_value=-3, max_value=12).map(str),
    st.sampled_from(["", "abc", "2.0", " 1", "1e1", "last"]),
    st.integers(min_value=-3, max_value=12),
)


class Counter:
    """`total` for the functions under test: how many, and how often it was asked."""

    def __init__(self, n: int) -> None:
        self.n, self.asked = n, 0

    def __call__(self) -> int:
        self.asked += 1
        return self.n


@given(n=st.integers(min_value=0, max_value=60), size=st.integers(1, 12), number=NUMBERS)
def test_a_page_is_djangos_page_for_any_number_asked(n, size, number):
    rows = list(range(n))
    total = Counter(n)
    page = get_page(rows, number, size, total)
    expected = Paginator(rows, size).get_page(number)
    assert (page.number, list(page.object_list)) == (expected.number, list(expected.object_list))
    assert page.paginator.count == n
    assert (page.has_next(), page.has_previous()) == (expected.has_next(), expected.has_previous())
    assert total.asked <= 1
    # Read with the page anyway (the patients list's tally): asked once, the same page and count.
    counted = Counter(n)
    same = get_page(rows, number, size, counted, counted=True)
    assert (same.number, list(same.object_list)) == (expected.number, list(expected.object_list))
    assert same.paginator.count == n and counted.asked == 1


@given(
    n=st.integers(min_value=0, max_value=60),
    offset=st.integers(min_value=0, max_value=70),
    limit=st.integers(min_value=0, max_value=25),
)
def test_the_count_is_asked_only_where_the_page_cannot_tell_it(n, offset, limit):
    total = Counter(n)
    page, count = page_and_total(list(range(n)), offset, limit, total)
    assert (page, count) == (list(range(n))[offset : offset + limit], n)
    # A page with room left (or an empty first page) holds the last rows: nothing to count.
    tells = limit > 0 and (0 < len(page) < limit or (offset == 0 and not page))
    assert total.asked == (0 if tells else 1)
