"""A real Celery worker on Redis picks up a task and answers from the database."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from agents.tasks import ping
from config.celery import app as celery_app
from tests.factories import CompanyFactory

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker():
    """Start ``celery worker`` in its own process, on the test database."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield process
    finally:
        celery_app.conf.task_always_eager = was_eager
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_task_round_trips_through_a_real_worker(worker):
    # given three companies committed to the database
    CompanyFactory.create_batch(3)
    # when a task is sent through Redis
    result = ping.delay()
    # then the worker runs it against the same database and the answer comes back
    try:
        answer = result.get(timeout=60)
    except Exception:
        worker.terminate()
        print(worker.stdout.read().decode(errors="replace"))
        raise
    assert answer == {"pong": True, "companies": 3}
