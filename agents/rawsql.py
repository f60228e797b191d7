"""Single-row statements written once per process from the models' fields, for the inbound
webhook's hot path: the ORM spends longer building an insert or a select (~0.3-0.8 ms) than
the database takes to run it (docs/performance.md, issue 12). Values still go through each
field's own conversions, both ways, so every backend gets what the ORM would send.

Each function looks the connection up once and hands the wrapper itself to the fields:
``django.db.connection`` is a proxy that finds the connection of the current thread on every
attribute read (~3 µs each, dozens a request).

JSON values are encoded by orjson on PostgreSQL (``json_bytes``): a call to a 500-member
center stores its 50 KB ring list, which ``json.dumps`` took ~0.4 ms to encode."""

import functools
import json
import time
from contextlib import contextmanager
from types import SimpleNamespace

import orjson
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.db.backends.utils import CursorWrapper
from django.db.models import JSONField, Model


@contextmanager
def prepared_cursor():
    """A cursor whose statements PostgreSQL parses and plans once per connection (a prepared
    statement, bound on the server), for the webhook's hot statements: unprepared, planning
    costs the database more than running them. Wrapped like every Django cursor (execute
    wrappers, errors) and logged like one when queries are logged. Elsewhere (SQLite, or
    ``prepare_threshold`` unset: ``PREPARED_STATEMENTS=0``), Django's own cursor."""
    db = connections[DEFAULT_DB_ALIAS]
    db.close_if_health_check_failed()  # as Django's own cursors do (once a request)
    db.ensure_connection()
    raw = db.connection
    if db.vendor != "postgresql" or raw.prepare_threshold is None:
        with db.cursor() as cursor:
            yield cursor
        return
    classes = _cursor_classes()
    wrapper = classes.logged if db.queries_logged else CursorWrapper
    with wrapper(classes.preparing(raw), db) as cursor:
        yield cursor


def fetchone_first(sql: str, params) -> tuple | None:
    """Run a read-only ``SELECT`` as the request's first (prepared, as ``prepared_cursor``)
    and let it double as Django's connection health check (``CONN_HEALTH_CHECKS``), which
    would otherwise cost a ``SELECT 1`` round trip of its own: on a reused connection that
    turns out dead, the connection is closed and the statement runs once more on a new one,
    which is what the health check does."""
    if not sql.lstrip().upper().startswith("SELECT"):
        raise ValueError("fetchone_first runs a read-only SELECT: it may run it twice")
    db = connections[DEFAULT_DB_ALIAS]
    checking = (
        db.connection is not None
        and db.health_check_enabled
        and not db.health_check_done
        and not db.in_atomic_block
    )
    if checking:
        db.health_check_done = True  # this statement is the check
    try:
        with prepared_cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    except (OperationalError, InterfaceError):
        # Only a connection that is gone is replaced (a timeout or a deadlock is raised).
        if not checking or (db.connection is not None and not db.connection.closed):
            raise
        db.close()  # as a failed health check does; the next cursor connects anew
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


@functools.cache
def _cursor_classes() -> SimpleNamespace:
    import psycopg

    class PreparingCursor(psycopg.Cursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=prepare is not False, binary=binary)

    class LoggedCursor(CursorWrapper):
        """Logs into ``connection.queries`` as Django's debug cursor does (that one reads the
        statement from a client-side cursor; this one binds on the server)."""

        def execute(self, sql, params=None):
            start = time.monotonic()
            try:
                return super().execute(sql, params)
            finally:
                shown = psycopg.ClientCursor(self.db.connection).mogrify(sql, params)
                self.db.queries_log.append(
                    {"sql": shown, "time": f"{time.monotonic() - start:.3f}"}
                )

    return SimpleNamespace(preparing=PreparingCursor, logged=LoggedCursor)


@functools.cache
def _insert_sql(model: type[Model], vendor: str) -> tuple[str, list]:
    db = connections[DEFAULT_DB_ALIAS]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    quote = db.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    returning = ""
    if db.features.can_return_columns_from_insert:
        returning = f" RETURNING {quote(model._meta.pk.column)}"
    placeholders = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608 - names only
        f"VALUES ({placeholders}){returning}"
    )
    return sql, fields


def insert_one(obj: Model) -> Model:
    """``obj.save()`` for a new row (no signals: Switchboard has no receivers), with the
    statement written once per process: the ORM spends ~0.4 ms building an insert, longer
    than the database takes to run it, on the webhook's every call. Values go through each
    field's own ``pre_save`` and ``get_db_prep_save``, as ``save()`` does."""
    db = connections[DEFAULT_DB_ALIAS]
    sql, fields = _insert_sql(type(obj), db.vendor)
    params = _save_params(obj, fields, db)
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        pk = cursor.fetchone()[0] if db.features.can_return_columns_from_insert else None
        if pk is None:
            pk = cursor.lastrowid
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = db.alias
    return obj


# Dates, times and dataclasses are handed back to json.dumps, which refuses them as ``save()``
# does (orjson would encode them).
_ORJSON = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def json_bytes(value: object) -> bytes:
    """``value`` as JSON, by orjson: the same JSON as ``json.dumps`` (keys that are numbers
    become strings; jsonb keeps no spacing) in about a tenth of its time. What orjson will
    not encode (a date, a dataclass, an integer past 64 bits, nesting past 254 levels) goes
    to ``json.dumps``, which encodes or refuses it as ``save()`` would. Two differences are
    left: orjson writes a UUID or a plain ``Enum`` (json.dumps refuses them) and NaN or
    infinity as ``null`` (which jsonb refuses); nothing stored this way holds either."""
    try:
        return orjson.dumps(value, option=_ORJSON)
    except orjson.JSONEncodeError:
        return json.dumps(value).encode()


def _save_params(obj: Model, fields: list, db) -> list:
    """What ``save()`` sends for each of ``fields``: each field's ``pre_save`` and
    ``get_db_prep_save``, but a plain JSON field's value (no encoder of its own) on
    PostgreSQL encoded by ``json_bytes`` instead of ``json.dumps``."""
    fast = _plain_json(type(obj), tuple(f.attname for f in fields), db.vendor)
    params = []
    for field, plain in zip(fields, fast, strict=True):
        value = field.pre_save(obj, True)
        if plain and value is not None and not hasattr(value, "resolve_expression"):
            params.append(_jsonb()(field.get_prep_value(value), dumps=json_bytes))
        else:
            params.append(field.get_db_prep_save(value, db))
    return params


@functools.cache
def _plain_json(model: type[Model], names: tuple[str, ...], vendor: str) -> tuple[bool, ...]:
    fields = (model._meta.get_field(name) for name in names)
    return tuple(
        # (exactly JSONField: a subclass may prepare its values its own way)
        vendor == "postgresql" and type(f) is JSONField and f.encoder is None
        for f in fields
    )


@functools.cache
def _jsonb():
    from psycopg.types.json import Jsonb  # (PostgreSQL only: psycopg may be absent elsewhere)

    return Jsonb


@functools.cache
def _insert_pair_sql(parent: type[Model], child: type[Model], link: str) -> tuple[str, list]:
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    parent_sql, parent_fields = _insert_sql(parent, db.vendor)
    parent_sql = parent_sql.rsplit(" RETURNING ", 1)[0]
    link_field = child._meta.get_field(link)
    child_fields = [f for f in child._meta.concrete_fields if not f.primary_key]
    values = ", ".join(
        f"parent.{quote(parent._meta.pk.column)}" if f is link_field else "%s" for f in child_fields
    )
    sql = (
        f"WITH parent AS ({parent_sql} RETURNING {quote(parent._meta.pk.column)}) "  # noqa: S608
        f"INSERT INTO {quote(child._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in child_fields)}) SELECT {values} FROM parent "
        f"RETURNING {quote(link_field.column)}, {quote(child._meta.pk.column)}"
    )
    return sql, [f for f in child_fields if f is not link_field]


def insert_pair(parent: Model, child: Model, *, link: str) -> None:
    """``insert_one`` of ``parent`` and of ``child``, whose foreign key ``link`` points at
    the parent: on PostgreSQL in one statement (one round trip instead of two: a new
    number's contact and its timeline row, a center's queue item and the call waiting in
    it), elsewhere one after the other."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        insert_one(parent)
        setattr(child, link, parent)
        insert_one(child)
        return
    sql, child_fields = _insert_pair_sql(type(parent), type(child), link)
    _, parent_fields = _insert_sql(type(parent), db.vendor)
    params = _save_params(parent, parent_fields, db) + _save_params(child, child_fields, db)
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        parent_pk, child_pk = cursor.fetchone()
    for obj, pk in ((parent, parent_pk), (child, child_pk)):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = db.alias
    setattr(child, link, parent)


@functools.cache
def _converters(model: type[Model], names: tuple[str, ...], vendor: str) -> list[tuple]:
    """What the ORM would do to each column's value on the way out of this database (e.g.
    SQLite's dates and times come back as text)."""
    db = connections[DEFAULT_DB_ALIAS]
    out = []
    for index, name in enumerate(names):
        field = model._meta.get_field(name)
        column = field.get_col(model._meta.db_table)
        found = db.ops.get_db_converters(column) + field.get_db_converters(db)
        if found:
            out.append((index, found, column))
    return out


def convert_row(model: type[Model], names: tuple[str, ...], row) -> list:
    """A row of the named fields' columns, as the ORM would give their values."""
    db = connections[DEFAULT_DB_ALIAS]
    values = list(row)
    for index, converters, column in _converters(model, names, db.vendor):
        for convert in converters:
            values[index] = convert(values[index], column, db)
    return values


@functools.cache
def _field_names(model: type[Model]) -> tuple[str, ...]:
    return tuple(field.name for field in model._meta.concrete_fields)


def instance_from_row(model: type[Model], values) -> Model:
    """A model instance from a row holding its concrete fields' columns, in their order."""
    names = _field_names(model)
    attnames = [field.attname for field in model._meta.concrete_fields]
    return model.from_db(DEFAULT_DB_ALIAS, attnames, convert_row(model, names, values))
