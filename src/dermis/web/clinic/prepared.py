"""A query run on every request, composed once: `PreparedQuery(build).first(value)`, and a page of
rows by several values, `PreparedRows(build, **kinds).rows(limit, offset, **values)`.

Who is asking (the session's user, or the API token's) is read at the start of every request
with the member of staff, the clinic and its recall recomputation joined in. The ORM composes that
SQL anew each time (about 0.7 ms here) and works out again how each row becomes four model
instances. This keeps, per database, the SQL and Django's own recipe for the instances (the
compiler's select and the related populators, as `QuerySet` iteration uses them), and runs the
SQL with the one value that changes. The instances are what the ORM would have built, related
objects included. For Django 5.2 (the LTS this project pins); tests compare it with the ORM.

The recall worklist reads three sections a view by the clinic, the day and the hour; composing
them took about a third of what reading them took (`PreparedRows`, keyed also by the page's LIMIT
and OFFSET, which Django writes into the SQL).

The calendar's reads are `values_list()` queries by lists of ids (the practitioners, rooms and
devices a proposal or the diary asks about): `PreparedValues` keeps their SQL and converters per
length of each list, and gives the tuples the ORM would (the busy times of a practitioner's
months, 480 rows: 2.4 ms through the ORM, 1.1-1.3 ms so).

`PreparedCount` counts (an API list's total), `PreparedStatement` gives the SQL and parameters
for SQL that wraps the query (the calendar feed's fingerprint), and `Paged` gives Django's
`Paginator` a list's pages read through `PreparedRows`. Composing a query took 0.2-0.7 ms each,
on pages that take 3-10 ms.

A page whose parts each make their own reads (the record page's panels) names them first with
`ahead()`, and `read_together(...)` sends them to PostgreSQL in one round trip: each read inside
the block whose statement is one of them takes its rows from there. Thirteen small reads took 2.0
ms one by one here and 0.45 ms together, the round trips being most of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import Func, IntegerField, Model, QuerySet
from django.db.models.query import (
    FlatValuesListIterable,
    ValuesListIterable,
    get_related_populators,
)

from dermis.web.clinic.stand_ins import INT_SENTINEL, int64, sentinel, slots_of
from dermis.web.clinic.together import Read, fetch


@dataclass(frozen=True)
class _Recipe:
    sql: str
    params: tuple
    slots: tuple  # (position among the parameters, value name, adapter)
    compiler: Any
    model: type[Model]
    converters: dict
    init_list: list[str]
    start: int
    end: int
    populators: list
    annotations: tuple  # (attribute, column)


RECIPES_KEPT = 64  # per query: (database, limit, offset) shapes; pages beyond are rarely read


class PreparedRows:
    """`build(**values)`, composed once per database and LIMIT/OFFSET, run with the values.

    `kinds` names each value and its type (int, str, date or datetime). Each value must reach the
    SQL as it is given (a value computed from another inside `build` is not found: pass it as a
    value of its own), once or more (a subquery may ask for it again); the rows are built as
    `ModelIterable` builds them, related objects and annotations included (no extra select).
    """

    def __init__(
        self,
        model: type[Model],
        build: Callable[..., QuerySet],
        *,
        planned_each_time: bool = False,
        **kinds: type,
    ) -> None:
        """`planned_each_time`: sent as text with its values, never prepared nor sent ahead, so
        that the database plans it for the values given (a search whose best plan depends on
        what is searched for: a trigram index for a rare name); composed once all the same."""
        self.model, self.build, self.kinds = model, build, kinds
        self.planned_each_time = planned_each_time
        self._recipes: dict[tuple, _Recipe] = {}

    def _recipe(self, alias: str, limit: int | None, offset: int) -> _Recipe:
        key = (alias, limit, offset)
        recipe = self._recipes.get(key)
        if recipe is not None:
            return recipe
        ops = connections[alias].ops
        stand_in = {name: sentinel(kind, i) for i, (name, kind) in enumerate(self.kinds.items())}
        queryset = _page(self.build(**stand_in).using(alias), limit, offset)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = slots_of(params, self.kinds, stand_in, ops)
        if compiler.has_extra_select:
            raise ValueError("a prepared query reads no extra select")
        klass_info, select = compiler.klass_info, compiler.select
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        recipe = _Recipe(
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            compiler=compiler,
            model=klass_info["model"],
            converters=compiler.get_converters([s[0] for s in select[: compiler.col_count]]),
            init_list=[f[0].target.attname for f in select[start:end]],
            start=start,
            end=end,
            populators=get_related_populators(klass_info, select, alias),
            annotations=tuple(compiler.annotation_col_map.items()),
        )
        if len(self._recipes) >= RECIPES_KEPT:
            self._recipes.clear()
        self._recipes[key] = recipe
        return recipe

    def _bound(self, limit: int | None, offset: int, values: dict) -> tuple | None:
        """(database, recipe, parameters) of these values; None where the ORM reads them."""
        if set(values) != set(self.kinds):
            raise TypeError(f"a prepared query takes {sorted(self.kinds)}, given {sorted(values)}")
        for name, kind in self.kinds.items():
            value = values[name]
            if type(value) is not kind or (kind is int and not int64(value)):
                return None
        alias = router.db_for_read(self.model)
        r = self._recipe(alias, limit, offset)
        params = list(r.params)
        for at, name, adapt in r.slots:
            params[at] = adapt(values[name])
        return alias, r, params

    def ahead(self, limit: int | None, offset: int = 0, **values) -> Read | None:
        """The read `rows(limit, offset, **values)` will make, for `read_together`."""
        bound = None if self.planned_each_time else self._bound(limit, offset, values)
        return None if bound is None else Read(bound[0], bound[1].sql, bound[2])

    def rows(
        self, limit: int | None, offset: int = 0, *, known: dict | None = None, **values
    ) -> list:
        """The instances `list(build(**values)[offset : offset + limit])` would give (every row
        from `offset` when `limit` is None). `known` names related objects the caller holds, by
        field (`{"patient": patient}`): each row whose column matches is given the instance, as a
        related manager's queryset gives its rows the object it was read from."""
        bound = self._bound(limit, offset, values)
        if bound is None:
            # The ORM's own way: a number no column holds (a 30-digit id in an address)
            # finds nothing there, where SQLite's driver could not even send it.
            return _known(list(_page(self.build(**values), limit, offset)), known)
        alias, r, params = bound
        if self.planned_each_time:
            with connections[alias].cursor() as cursor:
                cursor.execute(r.sql, params)
                found = cursor.fetchall()
        else:
            found = fetch(alias, r.sql, params)
        if r.converters:
            found = r.compiler.apply_converters(found, r.converters)
        out = []
        for row in found:
            obj = r.model.from_db(alias, r.init_list, row[r.start : r.end])
            for populator in r.populators:
                populator.populate(row, obj)
            for name, at in r.annotations:
                setattr(obj, name, row[at])
            out.append(obj)
        return _known(out, known)


@dataclass(frozen=True)
class _ValuesRecipe:
    sql: str | None  # None: the query can match nothing (an empty list it needs a member of)
    params: tuple
    slots: tuple
    compiler: Any
    converters: dict
    flat: bool


LIST_LIMIT = 100  # longer lists of numbers go to the ORM (a recipe is kept per length)


class PreparedValues:
    """`build(**values)`, a `values_list()` query, composed once per database and shape and run
    with the values: the tuples it gives (the values themselves when `flat`).

    `kinds` as `PreparedRows` takes them, and `list`: a list of numbers for an `__in`, kept
    without repeats in its order; a recipe is composed for each length of each list (an empty
    list too: Django then leaves its condition out, or knows the query matches nothing). Lists
    longer than LIST_LIMIT, and values out of their kind, go to the ORM."""

    def __init__(
        self, model: type[Model], build: Callable[..., QuerySet], *, flat: bool = False, **kinds
    ) -> None:
        self.model, self.build, self.kinds, self.flat = model, build, kinds, flat
        self._recipes: dict[tuple, _ValuesRecipe] = {}

    def _recipe(self, alias: str, lengths: tuple) -> _ValuesRecipe:
        key = (alias, lengths)
        recipe = self._recipes.get(key)
        if recipe is not None:
            return recipe
        ops = connections[alias].ops
        stand_in: dict[str, Any] = {}
        for i, ((name, kind), n) in enumerate(zip(self.kinds.items(), lengths, strict=True)):
            if kind is list:
                stand_in[name] = [INT_SENTINEL - 1000 * (i + 1) - k for k in range(n)]
            else:
                stand_in[name] = sentinel(kind, i)
        queryset = self.build(**stand_in).using(alias)
        query = queryset.query
        shape = FlatValuesListIterable if self.flat else ValuesListIterable
        if queryset._iterable_class is not shape:
            raise ValueError(f"a prepared values query is a values_list(flat={self.flat})")
        if query.extra_select or query.annotation_select or not query.values_select:
            raise ValueError("a prepared values query reads its fields only")
        compiler = query.get_compiler(using=alias)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            recipe = _ValuesRecipe(None, (), (), compiler, {}, self.flat)
        else:
            select = compiler.select[: compiler.col_count]
            recipe = _ValuesRecipe(
                sql,
                tuple(params),
                tuple(slots_of(params, self.kinds, stand_in, ops)),
                compiler,
                compiler.get_converters([s[0] for s in select]),
                self.flat,
            )
        if len(self._recipes) >= RECIPES_KEPT:
            self._recipes.clear()
        self._recipes[key] = recipe
        return recipe

    def _bound(self, values: dict) -> tuple | None:
        """(database, recipe, parameters) of these values (lists without repeats); None where
        the ORM reads them."""
        if set(values) != set(self.kinds):
            raise TypeError(f"a prepared query takes {sorted(self.kinds)}, given {sorted(values)}")
        lengths = []
        for name, kind in self.kinds.items():
            value = values[name]
            if kind is list:
                value = values[name] = list(dict.fromkeys(value))
                fits = len(value) <= LIST_LIMIT and all(int64(v) for v in value)
            else:
                fits = type(value) is kind and (kind is not int or int64(value))
            if not fits:
                return None
            lengths.append(len(value) if kind is list else 0)
        alias = router.db_for_read(self.model)
        r = self._recipe(alias, tuple(lengths))
        params = list(r.params)
        for at, key, adapt in r.slots:
            params[at] = adapt(values[key[0]][key[1]] if isinstance(key, tuple) else values[key])
        return alias, r, params

    def ahead(self, **values) -> Read | None:
        """The read `rows(**values)` will make, for `read_together`."""
        bound = self._bound(dict(values))
        if bound is None or bound[1].sql is None:
            return None
        return Read(bound[0], bound[1].sql, bound[2])

    def rows(self, **values) -> list:
        """What `list(build(**values))` gives."""
        bound = self._bound(values)
        if bound is None:
            return list(self.build(**values))
        alias, r, params = bound
        if r.sql is None:
            return []
        found = fetch(alias, r.sql, params)
        if r.converters:
            found = [tuple(row) for row in r.compiler.apply_converters(found, r.converters)]
        if r.flat:
            return [row[0] for row in found]
        return found


class PreparedQuery:
    """One row by one value: `PreparedQuery(model, build, kind).first(value)` is the instance
    `build(value)[:1]` gives, or None (a value of another type than `kind` goes to the ORM)."""

    def __init__(self, model: type[Model], build: Callable[[Any], QuerySet], kind: type) -> None:
        self.model, self.build, self.kind = model, build, kind
        self._rows = PreparedRows(model, lambda value: build(value), value=kind)

    def ahead(self, value) -> Read | None:
        """The read `first(value)` will make, for `read_together`."""
        return self._rows.ahead(1, value=value) if type(value) is self.kind else None

    def first(self, value):
        if type(value) is not self.kind:
            return self.build(value).first()
        rows = self._rows.rows(1, value=value)
        return rows[0] if rows else None


# COUNT(*) as an expression Django does not take for an aggregate: the count is then the one
# column of the query, with no GROUP BY (`values_list(Count(...))` would group by every field).
_ROW_COUNT = Func(template="COUNT(*)", output_field=IntegerField())


class PreparedStatement:
    """`build(**values)`'s SQL and parameters, composed once per database, for a caller that
    runs the query inside SQL of its own (int, str, date or datetime values, as `PreparedRows`
    takes them; a value of another type is composed by the ORM there and then)."""

    def __init__(self, model: type[Model], build: Callable[..., QuerySet], **kinds: type) -> None:
        self.model, self.build, self.kinds = model, build, kinds
        self._recipes: dict[str, tuple] = {}

    def _recipe(self, alias: str) -> tuple:
        recipe = self._recipes.get(alias)
        if recipe is None:
            ops = connections[alias].ops
            kinds = enumerate(self.kinds.items())
            stand_in = {name: sentinel(kind, i) for i, (name, kind) in kinds}
            query = self.build(**stand_in).using(alias).query
            try:
                sql, params = query.get_compiler(using=alias).as_sql()
            except EmptyResultSet:
                recipe = (None, (), ())
            else:
                recipe = (sql, tuple(params), tuple(slots_of(params, self.kinds, stand_in, ops)))
            self._recipes[alias] = recipe
        return recipe

    def statement(self, **values) -> tuple[str, list] | None:
        """(sql, params) of `build(**values)` on its database; None when it matches nothing."""
        if set(values) != set(self.kinds):
            raise TypeError(f"a prepared query takes {sorted(self.kinds)}, given {sorted(values)}")
        alias = router.db_for_read(self.model)
        for name, kind in self.kinds.items():
            value = values[name]
            if type(value) is not kind or (kind is int and not int64(value)):
                try:
                    sql, params = self.build(**values).query.get_compiler(using=alias).as_sql()
                except EmptyResultSet:
                    return None
                return sql, list(params)
        sql, fixed, slots = self._recipe(alias)
        if sql is None:
            return None
        params = list(fixed)
        for at, name, adapt in slots:
            params[at] = adapt(values[name])
        return sql, params


class PreparedCount:
    """`build(**values).count()`, composed once per database: `PreparedCount(model, build,
    **kinds).count(**values)` (values as `PreparedStatement` takes them)."""

    def __init__(self, model: type[Model], build: Callable[..., QuerySet], **kinds: type) -> None:
        self.model = model
        self._counted = PreparedStatement(
            model,
            lambda **values: (
                build(**values)
                .order_by()
                .annotate(prepared_row_count=_ROW_COUNT)
                .values_list("prepared_row_count")
            ),
            **kinds,
        )

    def ahead(self, **values) -> Read | None:
        """The read `count(**values)` will make, for `read_together`."""
        found = self._counted.statement(**values)
        return None if found is None else Read(router.db_for_read(self.model), *found)

    def count(self, **values) -> int:
        found = self._counted.statement(**values)
        if found is None:
            return 0
        return fetch(router.db_for_read(self.model), *found)[0][0]


class Paged:
    """A list's rows as Django's `Paginator` reads them: `[start:stop]` is one page, read through
    `rows` (composed once), and `count()` is `count()`'s answer (a tally, a `PreparedCount`)."""

    ordered = True  # for the paginator: the rows come in a stable order

    def __init__(
        self, rows: PreparedRows, count: Callable[[], int], known: dict | None = None, **values
    ) -> None:
        self._rows, self._count, self._known, self._values = rows, count, known, values

    def __getitem__(self, window: slice) -> list:
        start = window.start or 0
        limit = None if window.stop is None else max(0, window.stop - start)
        if limit == 0:  # an empty list's page (Django composes no query for LIMIT 0)
            return []
        return self._rows.rows(limit, start, known=self._known, **self._values)

    def count(self) -> int:
        return self._count()

    def __len__(self) -> int:
        return self.count()


def _page(queryset: QuerySet, limit: int | None, offset: int) -> QuerySet:
    if limit is None:
        return queryset[offset:] if offset else queryset
    return queryset[offset : offset + limit]


def _known(rows: list, known: dict | None) -> list:
    for name, instance in (known or {}).items():
        for obj in rows:
            field = obj._meta.get_field(name)
            if getattr(obj, field.attname) == instance.pk:
                setattr(obj, name, instance)
    return rows
