"""Bulk inserts at the speed of PostgreSQL's ``COPY``, for the few writes that store tens of
thousands of rows at once (a book's handover, a bulk assignment).

Django's ``bulk_create`` on PostgreSQL quotes every value of every row in Python (JSON
strings character by character), which costs more than the database's work; ``COPY`` hands
psycopg's dumpers the values instead. Elsewhere (SQLite) it is ``bulk_create``."""

from collections.abc import Sequence

from django.db import connection
from django.db.models import JSONField, Model
from django.utils import timezone

# Below this many rows ``bulk_create`` is as fast, and gives the instances their primary keys.
COPY_FROM = 200


def copy_insert(objs: Sequence[Model], *, batch_size: int = 2000) -> None:
    """Insert unsaved model instances. From ``COPY_FROM`` rows on, on PostgreSQL, through
    ``COPY``: no primary keys come back then. Fields left at ``None`` with a default get it."""
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql" or len(objs) < COPY_FROM:
        model.objects.bulk_create(objs, batch_size=batch_size)
        return
    from psycopg.types.json import Jsonb

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    now = timezone.now()

    def value(obj: Model, field):
        raw = getattr(obj, field.attname)
        if raw is None and field.has_default():
            raw = field.get_default()
        if raw is None and getattr(field, "auto_now_add", False):
            raw = now
        return Jsonb(raw) if isinstance(field, JSONField) and raw is not None else raw

    with connection.cursor() as cursor:
        copy_sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            for obj in objs:
                copy.write_row([value(obj, f) for f in fields])
