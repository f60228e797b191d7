"""The floors' bare tables, built by the benchmarks with raw SQL (no models, no migrations)."""

from django.db import connection, transaction

PHONES = "bench_floor_phone"
EVENTS = "bench_floor_event"
SLOTS = "bench_floor_slot"


def phones_build(count: int) -> None:
    """The webhook floor's tables (``bench.floor.urls``): ``count`` phones +1212 (2000000 + N),
    the same numbers and schema as ``bench/bench_webhook.py`` builds, and the events table."""
    with connection.cursor() as cursor, transaction.atomic():
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {PHONES} "
            "(id bigserial PRIMARY KEY, phone varchar(20) NOT NULL UNIQUE)"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {EVENTS} (id bigserial PRIMARY KEY, "
            f"phone_id bigint REFERENCES {PHONES} (id), body text NOT NULL, "
            "created_at timestamptz NOT NULL)"
        )
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {EVENTS}_phone ON {EVENTS} (phone_id)")
        cursor.execute(f"SELECT count(*) FROM {PHONES}")
        have = cursor.fetchone()[0]
        if have < count:
            cursor.execute(
                f"INSERT INTO {PHONES} (phone) "
                "SELECT '+1212' || (2000000 + g)::text FROM generate_series(%s, %s) AS g",
                [have + 1, count],
            )
        cursor.execute(f"ANALYZE {PHONES}")


def slots_build(count: int) -> None:
    """The next record's floor table (``bench.floor.urls_session``): ``count`` free rows, and
    a partial index of the free ones (the product's queue index finds an agent's next queued
    record the same way: one probe)."""
    with connection.cursor() as cursor, transaction.atomic():
        cursor.execute(f"DROP TABLE IF EXISTS {SLOTS}")
        cursor.execute(
            f"CREATE TABLE {SLOTS} (id bigserial PRIMARY KEY, taken_by bigint, "
            "taken_at timestamptz)"
        )
        cursor.execute(
            f"INSERT INTO {SLOTS} (taken_by) SELECT NULL FROM generate_series(1, %s)", [count]
        )
        cursor.execute(f"CREATE INDEX {SLOTS}_free ON {SLOTS} (id) WHERE taken_by IS NULL")
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {SLOTS}")


def slots_taken() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {SLOTS} WHERE taken_by IS NOT NULL")
        return cursor.fetchone()[0]
