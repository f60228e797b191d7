"""A real Celery worker on Redis picks up a task and answers from the database."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agents.tasks import ping
from tests.factories import CompanyFactory

ROOT = Path(__file__).resolve().parent.parent

on_redis_and_postgres = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def worker(start_worker):
    return start_worker()


@on_redis_and_postgres[0]
@on_redis_and_postgres[1]
@on_redis_and_postgres[2]
def test_a_task_round_trips_through_a_real_worker(worker):
    # given three companies committed to the database
    CompanyFactory.create_batch(3)
    # when a task is sent through Redis
    result = ping.delay()
    # then the worker runs it against the same database and the answer comes back
    # disable_sync_subtasks: eager tasks run earlier in this process leave Celery thinking
    # it is inside a task; this process is the test, not a worker.
    answer = result.get(timeout=60, disable_sync_subtasks=False)
    assert answer == {"pong": True, "companies": 3}


def _run(args, env, timeout=120):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_the_demo_worker_runs_a_countdown_task_on_sqlite_and_the_filesystem_queue(tmp_path):
    """What `make run` relies on: no Redis, no PostgreSQL, a countdown honoured."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "CELERY_FILESYSTEM_DIR": str(tmp_path / "celery"),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DEBUG": "1",
    }
    assert _run(["manage.py", "migrate", "-v0"], env).returncode == 0
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            f"--logfile={log}",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        sent = _run(
            [
                "-c",
                "import django; django.setup(); from agents.tasks import ping; "
                "print(ping.apply_async(countdown=1).id)",
            ],
            env,
        )
        assert sent.returncode == 0, sent.stderr
        task_id = sent.stdout.strip()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = log.read_text() if log.exists() else ""
            if f"{task_id}] succeeded" in text:
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"The worker did not run the task within 60 s:\n{text}")
        assert "'pong': True" in text
    finally:
        worker.terminate()
        worker.wait(timeout=20)
