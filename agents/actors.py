"""Who makes a change when it is not a person: the API key of the request being served.

Services take ``actor: Agent | None`` (None: Switchboard itself). A change made through the
public API has no person behind it but a key, which the timeline ("by API key “CRM sync”") and
the outbound events (``actor: {"type": "api_key", ...}``) name. The API's authentication sets
the key for the request's duration (``acting_key``); everything below reads it here, so no
service needs a second actor parameter.
"""

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class KeyActor:
    id: int
    name: str
    prefix: str

    def __str__(self) -> str:
        return f"API key “{self.name}”"


_current: contextvars.ContextVar[KeyActor | None] = contextvars.ContextVar(
    "switchboard_api_key", default=None
)


def current_key() -> KeyActor | None:
    """The API key the current change is made with, if any."""
    return _current.get()


@contextlib.contextmanager
def acting_key(key: KeyActor | None) -> Iterator[None]:
    token = _current.set(key)
    try:
        yield
    finally:
        _current.reset(token)


def describe(actor) -> dict:
    """The actor of a change as events carry it: a person, an API key or Switchboard."""
    if actor is not None:
        return {"type": "agent", "id": actor.pk, "email": actor.email, "name": str(actor)}
    key = current_key()
    if key is not None:
        return {"type": "api_key", "id": key.id, "name": key.name, "prefix": key.prefix}
    return {"type": "switchboard"}


def key_set(key: KeyActor | None) -> contextvars.Token:
    """Set the current key until ``key_reset`` (the API's views, around one request)."""
    return _current.set(key)


def key_reset(token: contextvars.Token) -> None:
    _current.reset(token)
