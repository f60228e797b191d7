"""The worker's log stays quiet: the 5 s sweep says something only when it did something,
Celery's routine lines for the periodic tasks are dropped, and printed emails are INFO."""

import logging
import logging.config
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from routing.models import Round
from routing.rounds import reassignment_start
from routing.tasks import sweep_rounds
from tests.factories import AgentFactory, ContactFactory, online
from tests.routing.helpers import group_of

pytestmark = pytest.mark.django_db


def test_a_sweep_with_nothing_to_do_logs_nothing_at_info(caplog):
    caplog.set_level(logging.DEBUG, logger="routing")
    # when the sweep runs with no round past its deadline
    assert sweep_rounds() == 0
    # then it says nothing at INFO or above
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []


def test_a_sweep_that_finishes_rounds_says_how_many(caplog, company):
    # given a first-to-claim round past its deadline
    online(ben := AgentFactory(companies=[company], full_name="Ben Okafor"))
    group = group_of(company, [ben], "first_to_claim", claim_window_minutes=5)
    round_ = reassignment_start(contact=ContactFactory(company=company), group=group, actor=None)
    Round.objects.filter(pk=round_.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    caplog.set_level(logging.INFO, logger="routing")
    # when the sweep runs
    assert sweep_rounds() == 1
    # then one INFO line says so
    lines = [r.getMessage() for r in caplog.records if r.name == "routing.tasks"]
    assert lines == ["Sweep finished 1 round(s) past their deadline."]


def _passes(logger: str, level: int, msg: str, args) -> bool:
    """Whether a record reaches the handlers past the filters LOGGING puts on ``logger``."""
    logging.config.dictConfig(settings.LOGGING)
    log = logging.getLogger(logger)
    record = log.makeRecord(logger, level, __file__, 1, msg, args, None)
    return all(f.filter(record) for f in log.filters)


SWEEP = {"name": "routing.sweep_rounds", "id": "x", "runtime": 0.01, "return_value": 0}
BEAT = ("Scheduler: Sending due task %s (%s)", ("sweep-rounds", "routing.sweep_rounds"))


@pytest.mark.parametrize(
    ("logger", "msg", "args"),
    [
        ("celery.beat", *BEAT),
        ("celery.worker.strategy", "Task %(name)s[%(id)s] received", (SWEEP,)),
        ("celery.app.trace", "Task %(name)s[%(id)s] succeeded in %(runtime)ss", (SWEEP,)),
    ],
)
def test_celerys_routine_lines_for_the_periodic_sweep_are_dropped(logger, msg, args):
    assert not _passes(logger, logging.INFO, msg, args)


def test_other_tasks_and_the_sweeps_errors_still_show():
    other = {**SWEEP, "name": "routing.send_offer_email"}
    trace = "celery.app.trace"
    assert _passes(trace, logging.INFO, "Task %(name)s[%(id)s] succeeded", (other,))
    assert _passes(trace, logging.ERROR, "Task %(name)s[%(id)s] raised", (SWEEP,))


def test_what_the_worker_prints_an_email_included_is_logged_as_info():
    from config import celery_app

    assert celery_app.conf.worker_redirect_stdouts_level == "INFO"
