"""Bulk inserts at the speed of PostgreSQL's ``COPY``, for the few writes that store tens of
thousands of rows at once (a book's handover, a bulk assignment).

Django's ``bulk_create`` on PostgreSQL quotes every value of every row in Python (JSON
strings character by character), which costs more than the database's work; ``COPY`` hands
psycopg's dumpers the values instead. Elsewhere (SQLite) it is ``bulk_create``.

JSON is encoded by orjson (a tenth of ``json.dumps``'s time on a timeline row's details:
0.47 s → 0.13 s for a handover's 100,000), to the same values (jsonb keeps no spacing)."""

from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import attrgetter, index

from django.db import connection
from django.db.models import JSONField, Model
from django.utils import timezone

from .rawsql import json_bytes

# Below this many rows ``bulk_create`` is as fast, and gives the instances their primary keys.
COPY_FROM = 200


def copy_insert(objs: Sequence[Model], *, batch_size: int = 2000) -> None:
    """Insert unsaved model instances. From ``COPY_FROM`` rows on, on PostgreSQL, through
    ``COPY``: no primary keys come back then. Fields left at ``None`` with a default get it.

    A JSON value shared by several rows (the same list object: the why log's candidates of
    a rotation's position, say) is encoded once."""
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql" or len(objs) < COPY_FROM:
        model.objects.bulk_create(objs, batch_size=batch_size)
        return
    _copy(model, objs, lambda names: attrgetter(*names) if len(names) > 1 else _one(names[0]))


def copy_values(model: type[Model], rows: Sequence[Mapping[str, object]]) -> None:
    """``copy_insert`` of rows given as {field's attname: value} (``company_id``, not
    ``company``), what the instances would hold, for the writers of a thousand rows a batch
    (the deadline sweep): building a model instance costs more than its row's ``COPY``.
    Fields missing from a row get their default (or ``None``); a name that is no field's
    (or the primary key's) is an error."""
    if not rows:
        return
    _check_names(model, rows)
    if connection.vendor != "postgresql" or len(rows) < COPY_FROM:
        model.objects.bulk_create([model(**row) for row in rows])
        return
    _copy(model, rows, _by_key)


def _check_names(model: type[Model], rows: Iterable[Mapping[str, object]]) -> None:
    # (not the primary key: the database gives it, or ``insert_values`` does)
    names = {f.attname for f in model._meta.concrete_fields if not f.primary_key}
    for row in rows:
        if not row.keys() <= names:
            raise ValueError(f"{model.__name__} has no field {sorted(row.keys() - names)}")


def insert_values(model: type[Model], rows: Sequence[Mapping[str, object]]) -> list[int]:
    """``copy_values`` that returns the new rows' primary keys, in ``rows``' order (the
    admin's re-assign of 10,000 contacts stores a round each and names it in their timeline
    and why-log rows). On PostgreSQL, from ``COPY_FROM`` rows on, the keys are taken from the
    table's identity sequence first (one statement) and written by the ``COPY``; otherwise
    ``bulk_create`` returns them."""
    if not rows:
        return []
    _check_names(model, rows)
    if connection.vendor != "postgresql" or len(rows) < COPY_FROM:
        objs = model.objects.bulk_create([model(**row) for row in rows])
        return [obj.pk for obj in objs]
    pk = model._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, pk.column, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]

    keyed = [{**row, pk.attname: key} for row, key in zip(rows, ids, strict=True)]
    _copy(model, keyed, _by_key, pk=True)
    return ids


def _json(value: object) -> str:
    return json_bytes(value).decode()


def int_array(values: Iterable[int | None]) -> str:
    """A PostgreSQL array literal of integers (``None`` is NULL), for a ``%s::bigint[]``
    parameter: ``str`` of each joined, a quarter of the time psycopg takes to quote a list of
    100,000 numbers one by one (the ownership path's ``UPDATE`` passes three of them)."""
    items = values if isinstance(values, list) else list(values)
    # (``index``: an integer or a TypeError, never a float or a text cut to one)
    if None in items:
        return "{" + ",".join("NULL" if v is None else str(index(v)) for v in items) + "}"
    return "{" + ",".join(map(str, map(index, items))) + "}"


def _one(name: str) -> Callable:
    return lambda obj: [getattr(obj, name)]


def _by_key(names: list[str]) -> Callable:
    return lambda row: list(map(row.get, names))


def _copy(
    model: type[Model], rows: Iterable, reader: Callable[[list[str]], Callable], *, pk: bool = False
) -> None:
    """``COPY`` ``rows`` into ``model``'s table. ``reader(attnames)`` gives the function that
    reads one row's values in that order, in one call (``attrgetter`` of an instance, a dict's
    ``get`` mapped over the names): a book's handover is 100,000 rows of ten columns, and a
    Python call per value was most of its time in Python. The primary key too with ``pk``
    (``insert_values``)."""
    fields = [f for f in model._meta.concrete_fields if pk or not f.primary_key]
    now = timezone.now()
    # What a column left at None gets, by position: a factory called per row (a default that
    # is a callable), else the same value for every row: ``default=timezone.now`` is the
    # batch's moment (as PostgreSQL's ``now()`` is the transaction's), JSON encoded once when
    # it is the same for every row (``default=dict``: "{}").
    # (position, factory or None, constant, the factory's value wants JSON)
    defaults: list[tuple[int, Callable[[], object] | None, object, bool]] = []
    json_at: list[int] = []
    for at, f in enumerate(fields):
        is_json = isinstance(f, JSONField)
        if is_json:
            json_at.append(at)
        if f.has_default():
            if is_json and f.default in (dict, list):
                defaults.append((at, None, _json(f.default()), False))
            elif f.default is timezone.now:
                defaults.append((at, None, now, False))
            elif callable(f.default):
                defaults.append((at, f.get_default, None, is_json))
            else:
                constant = f.get_default()
                defaults.append((at, None, _json(constant) if is_json else constant, False))
        elif getattr(f, "auto_now_add", False):
            defaults.append((at, None, now, False))
    read = reader([f.attname for f in fields])
    # By the value's id, keeping the value itself: an id is reused only once its object is
    # gone, which the reference held here prevents.
    encoded: dict[int, tuple[object, str]] = {}

    def json_text(raw) -> str:
        entry = encoded.get(id(raw))
        if entry is None or entry[0] is not raw:
            entry = encoded[id(raw)] = (raw, _json(raw))
        return entry[1]

    def values(row) -> list:
        out = list(read(row))
        for at in json_at:
            raw = out[at]
            if raw is not None:
                out[at] = json_text(raw)
        for at, factory, constant, encode in defaults:
            if out[at] is None:
                raw = factory() if factory is not None else constant
                out[at] = json_text(raw) if encode else raw
        return out

    copy_rows(model, [f.column for f in fields], (values(row) for row in rows))


def copy_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """``COPY`` plain rows (values in ``columns``' order; JSON already as text) into the
    model's table (PostgreSQL only)."""
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for values in rows:
            copy.write_row(values)


def rows_source(columns: Sequence[Sequence], types: Sequence[str]) -> tuple[str, list]:
    """A ``FROM`` source of many rows, for one ``UPDATE … FROM`` or ``INSERT … SELECT``
    statement whatever the batch: ``(sql, params)``, the rows' columns named ``v.column1``,
    ``v.column2``, … (``columns``: one sequence of values per column; ``types``: their
    PostgreSQL types, ``bigint``, ``text``…).

    On PostgreSQL ``unnest`` of one array per column: a parameter a column (psycopg, binding
    on the client here, writes each as one array literal), where a ``VALUES`` list of 500
    rows is 1,500 parameters quoted one by one in Python and 1,500 expressions for the server
    to parse. Elsewhere (SQLite) that ``VALUES`` list. ``columns`` must hold at least one
    row."""
    names = ", ".join(f"column{i}" for i in range(1, len(types) + 1))
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{kind}[]" for kind in types)
        params = [
            int_array(values) if kind in ("bigint", "integer") else list(values)
            for values, kind in zip(columns, types, strict=True)
        ]
        return f"unnest({arrays}) AS v({names})", params
    width = len(types)
    rows = list(zip(*columns, strict=True))
    one = "(" + ", ".join(["%s"] * width) + ")"
    return (
        f"(VALUES {', '.join([one] * len(rows))}) AS v",
        [value for row in rows for value in row],
    )
