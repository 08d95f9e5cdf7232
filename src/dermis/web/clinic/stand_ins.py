"""Stand-ins for a composed query's values, and where they are found again among its parameters
(clinic/prepared.py): a query is composed once with a stand-in for each value, and each later
run puts its own values where the stand-ins were, as the database's adapter or a LIKE lookup would
have written them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime

# Stand-ins for the values while the SQL is composed: found again among its parameters. (The
# number fits a 32-bit column: Django composes nothing for a value out of the column's range.)
INT_SENTINEL = -1_739_000_017
INT64 = (-(2**63), 2**63 - 1)


def sentinel(kind: type, i: int):
    """The `i`th stand-in of a type: distinct from each other and from any real value."""
    if kind is int:
        return INT_SENTINEL - i
    if kind is str:
        return f"\x1fprepared-query-value-{i}\x1f"
    if kind is datetime:
        return datetime(1001 + i, 1, 1, 1, 1, 1, 1, tzinfo=UTC)
    if kind is date:
        return date(1001 + i, 1, 1)
    raise TypeError(f"a prepared query takes int, str, date or datetime values, not {kind}")


def identity(value):
    return value


def adapters(kind: type, ops) -> tuple:
    """How a value of `kind` may appear among the composed parameters: as itself, or as the
    database's adapted form (SQLite's dates and times are text by then); a text also as the
    pattern a `contains`, `startswith` or `endswith` lookup makes of it (its wildcards escaped)."""
    if kind is datetime:
        return (identity, ops.adapt_datetimefield_value)
    if kind is date:
        return (identity, ops.adapt_datefield_value)
    if kind is str:
        return (identity, *like_patterns(ops))
    return (identity,)


@functools.cache
def like_patterns(ops) -> tuple:
    """The patterns Django's LIKE lookups send for a text (`contains`, `startswith`, `endswith`,
    and their case-blind forms, which send the same)."""
    escaped = ops.prep_for_like_query
    return (
        lambda v: f"%{escaped(v)}%",
        lambda v: f"{escaped(v)}%",
        lambda v: f"%{escaped(v)}",
    )


def slots_of(params: list, kinds: dict, stand_in: dict, ops) -> list:
    """Where each value's stand-in is among the composed parameters: (position, name, adapter)
    of a value; (position, (name, k), adapter) of the kth number of a list."""
    slots = []
    for name, kind in kinds.items():
        wanted_each = (
            [((name, k), v, int) for k, v in enumerate(stand_in[name])]
            if kind is list
            else [(name, stand_in[name], kind)]
        )
        for key, value, each_kind in wanted_each:
            found: dict[int, Callable] = {}  # position: the first adapter that gives it
            for adapt in adapters(each_kind, ops):
                wanted = adapt(value)
                for i, p in enumerate(params):
                    if type(p) is type(wanted) and p == wanted:
                        found.setdefault(i, adapt)
                    elif each_kind is int and wrapped_int(p, wanted):
                        found.setdefault(i, type(p))  # as the column's type wraps it
            if not found:
                raise ValueError(f"a prepared query takes each value as given: {name!r} is not")
            slots += [(at, key, adapt) for at, adapt in found.items()]
    all_found(params, slots, stand_in)
    return slots


def wrapped_int(p, wanted) -> bool:
    """A number the database's adapter wrapped in a type of its own (psycopg's `Int8`, which
    Django gives a big integer column's value)."""
    return isinstance(p, int) and not isinstance(p, bool) and type(p) is not int and p == wanted


def all_found(params: list, slots: list, stand_in: dict) -> None:
    """Every stand-in among the parameters is a slot: one left would be sent as it is."""
    placed = {at for at, _, _ in slots}
    stand_ins = [
        v for value in stand_in.values() for v in (value if type(value) is list else [value])
    ]
    for i, p in enumerate(params):
        if i not in placed and any(
            (type(p) is type(v) and p == v) or (type(v) is int and wrapped_int(p, v))
            for v in stand_ins
        ):
            raise ValueError(f"a prepared query's parameter {i} is a value it cannot place")


def int64(value) -> bool:
    return type(value) is int and INT64[0] <= value <= INT64[1]
