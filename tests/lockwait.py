"""Waiting for another thread to wait for a lock, seen by PostgreSQL (``pg_locks``)."""

import time

import pytest
from django.db import connection

# A backend whose lock request is not granted yet, blocked by the given backend.
_WAITING = """
    SELECT EXISTS (
        SELECT 1 FROM pg_locks l
        WHERE NOT l.granted AND %s = ANY(pg_blocking_pids(l.pid))
    )
"""


def backend_pid() -> int:
    """This thread's database backend (its connection opened if need be)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def wait_until_someone_waits_for(holder_pid: int, *, timeout: float = 15.0) -> None:
    """Return once a backend waits for a lock ``holder_pid`` holds; fail the test if none
    does within ``timeout`` seconds (the race it sets up never happened). ``pg_locks`` is
    read live, also from inside the holder's own transaction."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute(_WAITING, [holder_pid])
            if cursor.fetchone()[0]:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"no transaction waited for a lock of backend {holder_pid}")
            time.sleep(0.02)
