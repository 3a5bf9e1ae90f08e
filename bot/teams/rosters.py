"""Look people up in the rosters of the Teams teams the bot is in: ids and display names."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy import select

from bot.teams.cards import mentioned_ids
from bot.teams.references import PERSONAL, Conversation, ConversationStore, conversations
from nudges.messages import Message
from nudges.ports import DeliveryError

# How long a looked-up display name (or its absence) is trusted.
NAME_TTL = 3600.0
# Calls the connector for one conversation with an idempotent operation, paced and retried.
RosterCall = Callable[[Conversation, Callable[[Any], Awaitable[str]]], Awaitable[str]]


class Rosters:
    """Find people in the rosters of the bot's teams: their 29: ids and display names, cached."""

    def __init__(
        self,
        store: ConversationStore,
        call: RosterCall,
        *,
        names: Callable[[str], Awaitable[Mapping[str, str]]] | None = None,
    ) -> None:
        self.store = store
        self._call = call
        self._names = names
        self._cache: dict[tuple[str, str], tuple[str | None, float]] = {}

    async def teams_of(self, tenant: str) -> list[tuple[str, str]]:
        """Return (team id, serviceUrl) of every team in the tenant the bot is active in."""
        query = select(conversations.c.team_id, conversations.c.service_url).where(
            conversations.c.tenant_id == tenant,
            conversations.c.conversation_type != PERSONAL,
            conversations.c.active.is_(True),
            conversations.c.team_id.is_not(None),
        )
        async with self.store.engine.connect() as conn:
            rows = (await conn.execute(query.distinct())).all()
        return [(str(team_id), str(service_url)) for team_id, service_url in rows]

    async def member(self, tenant: str, person: str, bot_id: str) -> tuple[str, str | None] | None:
        """Look a person up (Entra object id or 29: id) in the rosters of the bot's teams."""
        for team_id, service_url in await self.teams_of(tenant):
            team = Conversation(tenant, team_id, "channel", service_url, bot_id)

            async def member(client: Any, team_id: str = team_id) -> str:
                found = await client.conversations.get_conversation_member(team_id, person)
                return json.dumps([str(found.id), found.name or None])

            try:
                raw = await self._call(team, member)
            except DeliveryError as exc:
                if exc.permanent:
                    continue
                raise
            user_id, name = json.loads(raw)
            return str(user_id), name
        return None

    async def roster_id(self, tenant: str, aad: str, via: Conversation) -> str:
        """Find a person's 29: id in the roster of a team the bot is in, by Entra object id."""
        found = await self.member(tenant, aad, via.bot_id)
        if found is None:
            raise DeliveryError(
                "not_installed: no chat with this person and not found in any team of the bot; "
                "they need to install the app",
                permanent=True,
            )
        self._cache[(tenant, aad)] = (found[1], time.monotonic() + NAME_TTL)
        return found[0]

    async def names_for(self, tenant: str, message: Message) -> Mapping[str, str]:
        """Name the people a message mentions, from team rosters; unknown ones stay ids."""
        if self._names is not None:
            return await self._names(tenant)
        names: dict[str, str] = {}
        now = time.monotonic()
        via: Conversation | None = None
        for person in mentioned_ids(message):
            cached = self._cache.get((tenant, person))
            if cached is None or cached[1] < now:
                via = via or await self.store.in_tenant(tenant)
                if via is None:
                    break
                try:
                    found = await self.member(tenant, person, via.bot_id)
                except DeliveryError:
                    # A name is a nicety: a roster hiccup must not hold the message back.
                    found = None
                cached = (found[1] if found else None, now + NAME_TTL)
                self._cache[(tenant, person)] = cached
            if cached[0]:
                names[person] = cached[0]
        return names
