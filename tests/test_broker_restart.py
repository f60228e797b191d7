"""Redis restarted under a worker that holds a claim window's countdown message: the worker
stays up and reconnects, and the window still closes on time (docs/operations.md, "When
things fail")."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.services import contact_create
from routing.models import Round
from routing.rounds import reassignment_start
from tests.routing.test_real_rounds import claim_group, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

# The sweep runs every 5 s; the worker retries its connection 2 s after losing it.
CLOSED_WITHIN = 15


def _log(tmp_path) -> str:
    path = tmp_path / "worker0.log"
    return path.read_text() if path.exists() else ""


def test_a_redis_restart_leaves_the_worker_running_and_the_window_closes_on_time(
    company, own_redis, point_celery_at, start_worker, monkeypatch, tmp_path
):
    # given a worker and beat on a Redis of the test's own
    monkeypatch.setenv("REDIS_URL", own_redis.url)
    point_celery_at(own_redis.url)
    worker = start_worker(beat=True)
    wait_for(lambda: " ready." in _log(tmp_path), 30, "the worker to start")
    # and an open claim window whose countdown message the worker holds, unacknowledged
    group, _ = claim_group(company, 2, claim_window_minutes=1)
    contact = contact_create(company=company, actor=None, phone="+12025550142")
    round_ = reassignment_start(contact=contact, group=group, actor=None)
    wait_for(
        lambda: "routing.expire_round[" in _log(tmp_path), 20, "the worker to get the countdown"
    )
    # (and the worker is idle, waiting on Redis: the offer emails are sent)
    wait_for(lambda: _log(tmp_path).count("routing.send_offer_email[") >= 4, 20, "the offer emails")
    time.sleep(1)
    # when Redis is killed outright (losing every message) and started again on its port
    own_redis.kill()
    time.sleep(1)
    own_redis.start()
    # and the window ends a few seconds later
    deadline = timezone.now() + timedelta(seconds=3)
    Round.objects.filter(pk=round_.pk).update(deadline_at=deadline)
    # then the window is closed by its deadline + 15 s, by the worker that saw the restart
    wait_for(
        lambda: (
            Round.objects.filter(pk=round_.pk).exclude(status="open").exists()
            or worker.poll() is not None
        ),
        (deadline - timezone.now()).total_seconds() + CLOSED_WITHIN,
        "the round to close",
    )
    assert worker.poll() is None, "the worker exited:\n" + _log(tmp_path)[-3000:]
    finished = Round.objects.get(pk=round_.pk)
    assert finished.status == Round.Status.UNASSIGNED
    assert "Connection to broker lost" in _log(tmp_path)
