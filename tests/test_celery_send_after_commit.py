"""Tasks sent after commit (config/celery.py): a broker that cannot be reached is logged and
left to the task's sweep; anything else, and everything in eager mode, propagates."""

import logging

import pytest
from django.conf import settings
from django.db import transaction
from redis.exceptions import ConnectionError as RedisConnectionError

from config.celery import SWEPT_BY
from config.celery import app as celery_app

pytestmark = pytest.mark.django_db(transaction=True)


@celery_app.task(name="tests.read_a_missing_file")
def read_a_missing_file():
    raise FileNotFoundError("/nowhere/list.csv")


@pytest.fixture
def not_eager():
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = saved


def _commit_and_send(task, monkeypatch=None, error=None):
    if error is not None:
        monkeypatch.setattr(task, "delay", lambda *args, **kwargs: (_ for _ in ()).throw(error))
    with transaction.atomic():
        task.delay_on_commit()


def test_an_eager_task_that_fails_after_commit_fails_the_test():
    # given eager tasks (the test settings) and a task whose body raises
    assert celery_app.conf.task_always_eager
    # when it is sent on commit, then its error reaches the caller
    with pytest.raises(FileNotFoundError):
        _commit_and_send(read_a_missing_file)


def test_an_unreachable_broker_is_logged_with_its_sweep(not_eager, monkeypatch, caplog):
    from routing.tasks import send_offer_email

    # when the broker refuses the message after commit
    with caplog.at_level(logging.WARNING, logger="config.celery"):
        _commit_and_send(send_offer_email, monkeypatch, RedisConnectionError("refused"))
    # then the commit stands, and the log names the sweep and carries the traceback
    (record,) = caplog.records
    assert "routing.send_offer_email" in record.getMessage()
    assert "the periodic sweep routing.send_unsent_offer_emails sends it again" in (
        record.getMessage()
    )
    assert record.exc_info is not None


def test_the_result_stores_retry_limit_counts_as_unreachable(not_eager, monkeypatch, caplog):
    from routing.tasks import send_offer_email

    # the result store gives up with a RuntimeError raised from a connection error
    try:
        raise RuntimeError("Retry limit exceeded") from RedisConnectionError("refused")
    except RuntimeError as error:
        gave_up = error
    with caplog.at_level(logging.WARNING, logger="config.celery"):
        _commit_and_send(send_offer_email, monkeypatch, gave_up)
    assert "sends it again" in caplog.records[0].getMessage()


@pytest.mark.parametrize("error", [FileNotFoundError("x"), RuntimeError("a bug"), ValueError()])
def test_other_errors_after_commit_propagate(not_eager, monkeypatch, error):
    from routing.tasks import send_offer_email

    with pytest.raises(type(error)):
        _commit_and_send(send_offer_email, monkeypatch, error)


def test_a_task_without_a_sweep_is_logged_as_lost(not_eager, monkeypatch, caplog):
    with caplog.at_level(logging.WARNING, logger="config.celery"):
        _commit_and_send(read_a_missing_file, monkeypatch, RedisConnectionError("refused"))
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert "no sweep sends it again" in record.getMessage()
    assert "periodic sweep" not in record.getMessage()


def test_every_sweep_named_is_scheduled():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert set(SWEPT_BY.values()) <= scheduled


def test_delay_each_sends_every_call_after_commit_from_one_hook(not_eager, monkeypatch):
    from routing.tasks import send_deadline_email

    sent = []
    monkeypatch.setattr(send_deadline_email, "delay", lambda *args: sent.append(args))
    with transaction.atomic():
        send_deadline_email.delay_each_on_commit((pk,) for pk in (3, 1, 2))
        assert len(transaction.get_connection().run_on_commit) == 1
        assert sent == []  # nothing before the commit
    assert sent == [(3,), (1,), (2,)]


def test_delay_each_sends_nothing_when_rolled_back(not_eager, monkeypatch):
    from routing.tasks import send_deadline_email

    sent = []
    monkeypatch.setattr(send_deadline_email, "delay", lambda *args: sent.append(args))
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        send_deadline_email.delay_each_on_commit([(1,), (2,)])
        raise ZeroDivisionError
    assert sent == []


def test_delay_each_stops_at_an_unreachable_broker_and_logs_once(not_eager, monkeypatch, caplog):
    from routing.tasks import send_deadline_email

    tried = []

    def refuse(*args):
        tried.append(args)
        raise RedisConnectionError("refused")

    monkeypatch.setattr(send_deadline_email, "delay", refuse)
    with caplog.at_level(logging.WARNING, logger="config.celery"), transaction.atomic():
        send_deadline_email.delay_each_on_commit([(1,), (2,), (3,)])
    # the commit stands; the rest are left to the sweep, which sends every pending one
    assert tried == [(1,)]
    (record,) = caplog.records
    assert "the periodic sweep routing.resend_stuck_deadline_emails sends it again" in (
        record.getMessage()
    )
