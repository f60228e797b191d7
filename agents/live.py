"""Live pages: tell the open pages that what they show has changed (docs/live.md).

A change calls ``live_changed`` inside its transaction, naming the *streams* it touched (an
agent's inbox, a company's Active pool, a contact page, ...). After the commit, one message
per stream goes to every page listening to it (Django Channels groups; the socket is
``desk/live.py``); nothing is sent for a change that rolled back. A message says only which
stream changed: the page fetches its part again with the rights of its own request, so a
message never carries anything a listener could not already read.

A page may listen only to the streams named in a token signed by its view (``live_token``),
which checked the person's rights to what it rendered; the socket trusts nothing else.

This module is the ground floor: every app calls it, it imports nothing of theirs, and the
caller pays no query (the inbound webhook calls it on every text).
"""

from __future__ import annotations

import logging
import os
import queue
import re
import threading
import time
from collections.abc import Iterable

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core import signing
from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger(__name__)

TOKEN_SALT = "switchboard.live"  # noqa: S105 - a signing salt, no secret
# A page open longer than this reconnects with a refused token and says "reload" (its
# safety refresh, or the reload, signs a new one).
TOKEN_MAX_AGE = 24 * 3600  # seconds
STREAM_RE = re.compile(r"^(agent|active|contact|center|campaign|workload)\.[0-9]{1,19}$")
# Streams many pages share (a text to Active nudges every available agent of the company):
# the message asks the pages to spread their refetch over this many milliseconds, so 200
# pages do not ask for their fragment in the same instant (docs/live.md, "The herd").
SHARED_SPREAD_MS = {"active": 1000, "workload": 1000, "center": 1000, "campaign": 1000}
OWN_SPREAD_MS = 0


def stream_agent(agent_id: int) -> str:
    """That agent's Mine, Offers and tab counts."""
    return f"agent.{int(agent_id)}"


def stream_active(company_id: int) -> str:
    """A company's Active pool (and every Active count in its Lead Centers)."""
    return f"active.{int(company_id)}"


def stream_contact(contact_id: int) -> str:
    """A contact page: its owner, Re-Assign in progress, interactions and timeline."""
    return f"contact.{int(contact_id)}"


def stream_center(center_id: int) -> str:
    """A contact center's dashboard: queue, ring activity, alerts."""
    return f"center.{int(center_id)}"


def stream_campaign(campaign_id: int) -> str:
    """A campaign's dashboard: progress per agent."""
    return f"campaign.{int(campaign_id)}"


def stream_workload(company_id: int) -> str:
    """A company's workload page."""
    return f"workload.{int(company_id)}"


def safety_seconds() -> int:
    """How often an open live page fetches its parts anyway, socket or not: a message lost
    while Redis restarts, or one the demo's Celery worker sent to an in-memory layer it does
    not share with the web process, shows within this (docs/live.md)."""
    in_memory = settings.CHANNEL_LAYERS["default"]["BACKEND"].endswith("InMemoryChannelLayer")
    return 20 if in_memory else 300


def group_name(*, company_id: int, stream: str) -> str:
    """The Channels group of a stream: the company is part of the name, so a page of one
    company is never in a group of another, whatever ids the two share."""
    return f"c{int(company_id)}.{stream}"


def spread_ms(stream: str) -> int:
    return SHARED_SPREAD_MS.get(stream.split(".", 1)[0], OWN_SPREAD_MS)


def _check_streams(streams: Iterable[str]) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(streams))
    for name in names:
        if not isinstance(name, str) or not STREAM_RE.match(name):
            raise ValueError(f"Not a live stream name: {name!r}")
    return names


# --- the token ---------------------------------------------------------------------------


def live_token(*, user, company_id: int, streams: Iterable[str]) -> str:
    """A signed token naming the streams a page may hear, for this user and company only.
    The view calls it after checking the user's rights to what the page shows."""
    names = _check_streams(streams)
    return signing.dumps(
        {"u": int(user.pk), "c": int(company_id), "s": list(names)},
        salt=TOKEN_SALT,
        compress=True,
    )


class TokenRefused(Exception):
    """A token the socket will not honour: the message says why, for the log and the page."""


def live_token_read(token: str, *, user_id: int, company_id: int) -> tuple[str, ...]:
    """The streams of a token made for this user and company, or ``TokenRefused``."""
    if not isinstance(token, str) or len(token) > 4096:
        raise TokenRefused("Not a live token.")
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired as error:
        raise TokenRefused("The page is too old to stay live: reload it.") from error
    except signing.BadSignature as error:
        raise TokenRefused("The live token is not valid.") from error
    if not isinstance(data, dict) or data.get("u") != user_id or data.get("c") != company_id:
        raise TokenRefused("The live token was made for someone else.")
    try:
        return _check_streams(data.get("s") or ())
    except (TypeError, ValueError) as error:
        raise TokenRefused("The live token names no stream.") from error


# --- publishing after commit -------------------------------------------------------------

_ATTR = "_switchboard_live"
# Contact pages told one by one per commit; past it, none (a mass change).
CONTACTS_MAX = 1000


class _Batch:
    """The streams changed at one savepoint depth of a transaction, sent after commit.

    Registered with ``on_commit``, so Django drops it with the savepoint or transaction that
    rolls back. The batches of one transaction share ``sent``: each stream goes out once per
    commit however many savepoints named it."""

    __slots__ = ("changed", "sent")

    def __init__(self, sent: set) -> None:
        self.changed: dict[tuple[int, str], None] = {}
        self.sent = sent

    def __call__(self) -> None:
        pending = [key for key in self.changed if key not in self.sent]
        self.sent.update(pending)
        contacts = [key for key in pending if key[1].startswith("contact.")]
        if len(contacts) > CONTACTS_MAX:
            # A mass change (a claim-based handover's 100,000 rounds in one transaction): the
            # agents' and workload pages hear of it, an open contact page on its safety
            # refresh.
            pending = [key for key in pending if not key[1].startswith("contact.")]
        if pending:
            publish(pending)


class _Pending:
    """A transaction's batches by savepoint depth, valid while ``hooks`` is the connection's
    list of commit hooks (Django replaces it on commit, rollback and savepoint rollback)."""

    __slots__ = ("hooks", "batches", "sent")

    def __init__(self, hooks: list, batches: dict, sent: set) -> None:
        self.hooks, self.batches, self.sent = hooks, batches, sent


def _pending(connection) -> _Pending:
    state = getattr(connection, _ATTR, None)
    hooks = connection.run_on_commit
    if state is not None and state.hooks is hooks:
        return state
    # A new transaction, or a savepoint rolled back: keep the batches still registered.
    kept = {}
    if state is not None and hooks:
        registered = {id(entry[1]) for entry in hooks}
        kept = {key: b for key, b in state.batches.items() if id(b) in registered}
    state = _Pending(hooks, kept, state.sent if kept else set())
    setattr(connection, _ATTR, state)
    return state


def live_changed(*, company_id: int, streams: Iterable[str], using: str = DEFAULT_DB_ALIAS):
    """Tell the pages listening to ``streams`` that they changed, once the current
    transaction commits (at once outside one). Cheap: no query, nothing sent before commit,
    one message per stream per commit."""
    keys = [(int(company_id), name) for name in _check_streams(streams)]
    if not keys:
        return
    connection = connections[using]
    if not connection.in_atomic_block:
        publish(keys)
        return
    state = _pending(connection)
    depth = tuple(connection.savepoint_ids)
    batch = state.batches.get(depth)
    if batch is None:
        batch = state.batches[depth] = _Batch(state.sent)
        connection.on_commit(batch)
    for key in keys:
        batch.changed[key] = None


# --- the channel layer -------------------------------------------------------------------

_redis_lock = threading.Lock()
_redis_clients: dict[str, object] = {}


def message(stream: str) -> dict:
    """What a page receives: the stream, when it changed (ms since the epoch) and over how
    long to spread its refetch."""
    return {
        "type": "live.changed",
        "stream": stream,
        "changed": int(time.time() * 1000),
        "spread": spread_ms(stream),
    }


def publish(keys: Iterable[tuple[int, str]]) -> None:
    """Send one message per (company, stream) now. A layer that is down loses the message,
    never the change: pages catch up on their next refresh (docs/live.md)."""
    keys = list(keys)
    try:
        layer_config = settings.CHANNEL_LAYERS["default"]
        if layer_config["BACKEND"].startswith("channels_redis.pubsub"):
            _publish_redis(layer_config, keys)
        else:
            _publish_layer(keys)
    except Exception:  # noqa: BLE001 - a lost nudge must never fail the change
        logger.warning("live: could not publish %d stream(s)", len(keys), exc_info=True)


def _publish_layer(keys) -> None:
    """Through Channels itself (the in-memory layer of the demo: same process only)."""
    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all():
        for company_id, stream in keys:
            group = group_name(company_id=company_id, stream=stream)
            await layer.group_send(group, message(stream))

    async_to_sync(send_all)()


def _publish_redis(layer_config: dict, keys) -> None:
    """Hand the messages to this process's sender thread: the committing request pays a
    queue put, not a Redis round trip (~0.2-1 ms on a busy machine, on every webhook
    call)."""
    try:
        _sender().put_nowait((layer_config, [(k, message(k[1])) for k in keys]))
    except queue.Full:
        # Redis hangs and the backlog is full: this nudge is dropped (pages catch up on their
        # safety refresh), the change is not slowed.
        logger.warning("live: the sender's backlog is full; %d stream(s) dropped", len(keys))


_sender_lock = threading.Lock()
_sender_state: dict = {}


# Commits waiting for the sender while Redis is slow; past it, nudges are dropped.
BACKLOG = 10_000


def _sender() -> queue.Queue:
    """The process's sender (started on first use; again in a forked child, which has no
    threads of its parent)."""
    pid = os.getpid()
    if _sender_state.get("pid") != pid:
        with _sender_lock:
            if _sender_state.get("pid") != pid:
                inbox: queue.Queue = queue.Queue(maxsize=BACKLOG)
                thread = threading.Thread(
                    target=_send_forever, args=(inbox,), name="live-publish", daemon=True
                )
                thread.start()
                _sender_state.update(pid=pid, inbox=inbox, thread=thread)
    return _sender_state["inbox"]


def _send_forever(inbox: queue.Queue) -> None:
    while True:
        batch = [inbox.get()]
        # Everything committed meanwhile goes in the same round trip.
        while len(batch) < 1000:
            try:
                batch.append(inbox.get_nowait())
            except queue.Empty:
                break
        try:
            _send_redis(batch)
        except Exception:  # noqa: BLE001 - a lost nudge: pages catch up on their refresh
            logger.warning("live: could not publish %d commit(s)", len(batch), exc_info=True)


def _send_redis(batch) -> None:
    """One pipelined round trip: channels_redis's pub/sub layer listens on
    ``<prefix>__group__<group>`` for a group and decodes with its own serializer, which we
    use (tests/live/test_socket.py hears these on a real socket)."""
    layer = get_channel_layer()
    by_url: dict[str, list] = {}
    for layer_config, messages in batch:
        config = layer_config.get("CONFIG", {})
        prefix = config.get("prefix", "asgi")
        host = config["hosts"][0]
        url = host if isinstance(host, str) else host["address"]
        for (company_id, stream), body in messages:
            channel = f"{prefix}__group__{group_name(company_id=company_id, stream=stream)}"
            by_url.setdefault(url, []).append((channel, layer.serialize(body)))
    for url, items in by_url.items():
        pipe = _redis_client(url).pipeline(transaction=False)
        for channel, data in items:
            pipe.publish(channel, data)
        pipe.execute()


def _redis_client(url: str):
    client = _redis_clients.get(url)
    if client is None:
        with _redis_lock:
            client = _redis_clients.get(url)
            if client is None:
                client = redis.Redis.from_url(
                    url, socket_timeout=0.5, socket_connect_timeout=0.5, health_check_interval=30
                )
                _redis_clients[url] = client
    return client
