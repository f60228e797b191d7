"""The Celery application.

With ``REDIS_URL`` the broker is Redis. Without it the broker is kombu's filesystem
transport under ``var/celery/``, so ``make run`` still runs a real worker and beat with no
server to install (see ``config/settings.py``).

Two things here keep a broker outage from turning into a worse failure (docs/operations.md,
"When things fail"):

- ``RedisTransport``: the worker rides out a Redis restart instead of exiting.
- ``Task``: a message sent after commit that the broker does not take is logged, never
  raised into the request that committed; the periodic sweeps send it again (``SWEPT_BY``).
  Any other error, and every error in eager mode (the tests), propagates.
"""

import functools
import logging
import os
import socket
from collections.abc import Iterable

from celery import Celery
from celery.contrib.django.task import DjangoTask
from django.db import transaction
from kombu.exceptions import OperationalError
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)


# --- The worker survives a Redis restart -------------------------------------------------------
class RedisChannel(kombu_redis.Channel):
    """kombu's Redis channel, except that a channel whose transport is already gone says
    so with a connection error instead of an ``AttributeError``.

    Why: on a lost connection celery 5.7.0 first calls ``Connection.collect()``, then closes
    the connection again (celery/celery#10242, "close broken connection in error handler").
    ``collect()`` tries to close the default channel, which stops at its first dead socket
    read (Redis is down) and stays open, then drops the transport's ``client``. The second
    close restores the unacknowledged messages (a countdown task is one), asks the transport
    for its host (``_connparams``: ``self.connection.client.hostname``), gets
    ``AttributeError: 'NoneType' object has no attribute 'hostname'``, which is not one of
    the errors ``ignore_errors`` swallows, and the worker exits ("Unrecoverable error").
    The same AttributeError family on a half-closed channel: celery/kombu#582, #970; turning
    such a failure into a connection error so celery reconnects is what kombu did for the
    stale-fd KeyError (celery/kombu#2582, #2592). With a connection error the close is
    abandoned as any other close on a dead broker is, the consumer reconnects, and the
    messages stay in Redis's unacked hash (redelivered after ``visibility_timeout``; the
    sweeps do not wait for them). Remove once celery or kombu handles it (tests/
    test_broker_restart.py fails without it).
    """

    def _connparams(self, asynchronous=False):
        transport = self.connection
        if transport is None or transport.client is None:
            raise RedisConnectionError("the broker connection is already closed")
        return super()._connparams(asynchronous=asynchronous)


class RedisTransport(kombu_redis.Transport):
    Channel = RedisChannel


# --- Sending after commit never fails the request ------------------------------------------------
# What a publish raises when the broker, or the Redis result store (which subscribes to every
# task's result as it is sent), cannot be reached: kombu's and redis-py's connection errors,
# and the socket's own (refused, reset, timed out, host not found).
BROKER_UNREACHABLE = (
    OperationalError,
    RedisError,
    ConnectionError,
    TimeoutError,
    socket.gaierror,
)
# The sweep that sends each task again when its message never reached the broker. A task
# sent on commit that is missing here is lost if its publish fails (the log says so).
SWEPT_BY = {
    "routing.expire_round": "routing.sweep_rounds",
    "routing.send_offer_email": "routing.send_unsent_offer_emails",
    "routing.send_deadline_email": "routing.resend_stuck_deadline_emails",
    "contacts.send_assignment_email": "contacts.resend_stuck_assignment_emails",
    "leads.send_lead_email": "leads.resend_stuck_lead_emails",
    "campaigns.run_list_import": "campaigns.sweep_list_imports",
    "events.dispatch_events": "events.sweep_outbound",
    "events.send_deliveries": "events.sweep_outbound",
    "events.send_endpoint_disabled_email": "events.resend_stuck_endpoint_emails",
}


def broker_unreachable(error: BaseException) -> bool:
    """Whether a publish failed because the broker or result store cannot be reached. The
    result store's "retry limit exceeded" is a bare ``RuntimeError``, raised from the
    connection error it gave up on: only that one counts, never another RuntimeError."""
    if isinstance(error, BROKER_UNREACHABLE):
        return True
    return isinstance(error, RuntimeError) and isinstance(error.__cause__, BROKER_UNREACHABLE)


class Task(DjangoTask):
    """Every task of the app. ``delay_on_commit`` and ``apply_async_on_commit`` send after
    the transaction commits; when the broker is unreachable then, the change is already
    committed, so the error is logged and swallowed: the periodic sweep that owns the task
    (``SWEPT_BY``; docs/operations.md lists them) sends it again, and the request answers
    its success. Anything else raised is a bug and propagates, and so does everything in
    eager mode (the tests), where the send runs the task's body."""

    def delay_on_commit(self, *args, **kwargs) -> None:
        self._on_commit(functools.partial(self.delay, *args, **kwargs))

    def apply_async_on_commit(self, *args, **kwargs) -> None:
        self._on_commit(functools.partial(self.apply_async, *args, **kwargs))

    def delay_each_on_commit(self, calls: Iterable[tuple]) -> None:
        """``delay(*args)`` for each ``args`` of ``calls``, after the commit, from one commit
        hook (a batch of 500 emails pays one hook and one settings lookup, not 500). When
        the broker turns out unreachable, the rest are not tried: the sweep sends them all
        again."""
        sends = [functools.partial(self.delay, *args) for args in calls]
        if sends:
            transaction.on_commit(functools.partial(self._send_after_commit, *sends))

    def _on_commit(self, send) -> None:
        transaction.on_commit(functools.partial(self._send_after_commit, send))

    def _send_after_commit(self, *sends) -> None:
        if self.app.conf.task_always_eager:
            for send in sends:
                send()
            return
        try:
            for send in sends:
                send()
        except Exception as error:
            if not broker_unreachable(error):
                raise
            sweep = SWEPT_BY.get(self.name)
            if sweep:
                logger.warning(
                    "Could not queue %s after commit (the broker is unreachable); "
                    "the periodic sweep %s sends it again.",
                    self.name,
                    sweep,
                    exc_info=True,
                )
            else:
                logger.error(
                    "Could not queue %s after commit (the broker is unreachable); "
                    "no sweep sends it again: it is lost.",
                    self.name,
                    exc_info=True,
                )


app = Celery("switchboard", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
