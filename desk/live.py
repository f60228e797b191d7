"""The live pages' socket, ``/live/`` (docs/live.md).

A page opens one socket and sends the tokens its views signed (``agents.live.live_token``):
``{"watch": ["<token>", ...]}`` (all of the page's, each time it sends), answered by
``{"watching": [[streams of the first token], ...]}``. The socket checks each token against
the session's own user and company, joins the streams' groups, and from then on sends
``{"stream": "agent.12", "changed": <ms>, "spread": <ms>}`` whenever a change to one of them
commits. It trusts no stream the browser names, only signed ones; a bad token closes the
socket with code 4403 (the page stops trying and works on reload).
"""

from __future__ import annotations

import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from agents.live import TokenRefused, group_name, live_token_read
from agents.middleware import SESSION_KEY
from agents.selectors import companies_for_user

logger = logging.getLogger(__name__)

REFUSED = 4403  # a close code of the application range: "not allowed", do not retry
MAX_STREAMS = 50  # one page's parts; more is no page of ours
MAX_GROUPS = 200  # streams one socket may hear at once (each is a Redis subscription)


def _session_company_id(user, session) -> int | None:
    """The company the session works in, as CurrentCompanyMiddleware picks it."""
    allowed = companies_for_user(user)
    picked = session.get(SESSION_KEY) if session is not None else None
    company = allowed.filter(pk=picked).only("pk").first() if picked else None
    company = company or allowed.order_by("name", "pk").only("pk").first()
    return company.pk if company is not None else None


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """One page's socket: the streams of its signed tokens, nothing else."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            # Accepted, then closed with our code: refused before the handshake, the browser
            # would see 1006 and try again forever.
            await self.accept()
            await self.close(code=REFUSED)
            return
        self.user_id = user.pk
        self.company_id = await database_sync_to_async(_session_company_id)(
            user, self.scope.get("session")
        )
        if self.company_id is None:
            await self.accept()
            await self.close(code=REFUSED)
            return
        self.groups_joined: set[str] = set()
        await self.accept()

    async def receive_json(self, content, **kwargs):
        tokens = content.get("watch") if isinstance(content, dict) else None
        if not isinstance(tokens, list) or not tokens:
            await self._refuse('Send {"watch": [token, ...]}.')
            return
        if len(tokens) > MAX_STREAMS:
            await self._refuse("Too many live parts on one page.")
            return
        per_token: list[list[str]] = []
        try:
            for token in tokens:
                per_token.append(
                    list(live_token_read(token, user_id=self.user_id, company_id=self.company_id))
                )
        except TokenRefused as error:
            await self._refuse(str(error))
            return
        # What the page watches now replaces what it watched (a page sends all its tokens
        # each time), within MAX_GROUPS.
        wanted = {
            group_name(company_id=self.company_id, stream=stream)
            for streams in per_token
            for stream in streams
        }
        if len(wanted) > MAX_GROUPS:
            await self._refuse("Too many live parts on one page.")
            return
        for group in self.groups_joined - wanted:
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in wanted - self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = wanted
        # The streams of each token, in the order sent: the page knows which part to refresh.
        await self.send_json({"watching": per_token})

    async def _refuse(self, reason: str):
        logger.info("live: refused user %s: %s", getattr(self, "user_id", None), reason)
        await self.send_json({"refused": reason})
        await self.close(code=REFUSED)

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def live_changed(self, event):
        await self.send_json(
            {"stream": event["stream"], "changed": event["changed"], "spread": event["spread"]}
        )
