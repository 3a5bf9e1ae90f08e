"""Store the Teams conversations the bot may write to: one row per conversation, kept current.

Teams gives a bot no way to open a chat by user id alone: a proactive message needs the
``serviceUrl`` Teams sent (it is region-specific), the conversation id (or the tenant id and the
user's ``29:`` id to create one), and the bot's own ``28:`` id. Every inbound activity carries
those, so the handler files them here; the messenger reads them back. Rows are never deleted:
an uninstall marks the conversation inactive, so sends stop and a reinstall revives it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    and_,
    select,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from nudges.store.base import NAMING_CONVENTION, UTCDateTime

logger = logging.getLogger(__name__)

PERSONAL = "personal"

teams_metadata = MetaData(naming_convention=NAMING_CONVENTION)

conversations = Table(
    "teams_conversations",
    teams_metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant_id", String(64), nullable=False, index=True),
    Column("conversation_id", String(512), nullable=False),
    # personal, channel or groupChat
    Column("conversation_type", String(16), nullable=False),
    Column("service_url", String(512), nullable=False),
    Column("bot_id", String(128), nullable=False),
    # The person of a personal chat: their per-bot 29: id and their Entra object id.
    Column("user_id", String(255)),
    Column("aad_object_id", String(64), index=True),
    Column("team_id", String(255)),
    Column("locale", String(16)),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("conversation_id"),
)


@dataclass(frozen=True, slots=True)
class Conversation:
    """Everything needed to write into one Teams conversation later."""

    tenant_id: str
    conversation_id: str
    conversation_type: str
    service_url: str
    bot_id: str
    user_id: str | None = None
    aad_object_id: str | None = None
    team_id: str | None = None
    locale: str | None = None
    active: bool = True

    @property
    def personal(self) -> bool:
        """Tell whether this is a one-to-one chat with a person."""
        return self.conversation_type == PERSONAL


def _row(conversation: Conversation) -> dict[str, object]:
    return {
        "tenant_id": conversation.tenant_id,
        "conversation_id": conversation.conversation_id,
        "conversation_type": conversation.conversation_type,
        "service_url": conversation.service_url,
        "bot_id": conversation.bot_id,
        "user_id": conversation.user_id,
        "aad_object_id": conversation.aad_object_id,
        "team_id": conversation.team_id,
        "locale": conversation.locale,
        "active": conversation.active,
    }


_FIELDS = tuple(f.name for f in fields(Conversation))


def _conversation(row: Row[Any]) -> Conversation:
    return Conversation(**{name: row._mapping[name] for name in _FIELDS})


class ConversationStore:
    """Read and write stored Teams conversations."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def remember(self, conversation: Conversation) -> bool:
        """Store or refresh ``conversation`` as active; return True when it was not known."""
        now = datetime.now(UTC)
        values = _row(replace(conversation, active=True))
        for attempt in (1, 2):
            async with self.engine.begin() as conn:
                found = await conn.scalar(
                    select(conversations.c.id).where(
                        conversations.c.conversation_id == conversation.conversation_id
                    )
                )
                if found is not None:
                    # A channel message names the sender, not the chat's owner: keep who we had.
                    if not conversation.personal:
                        values = {k: v for k, v in values.items() if v is not None}
                    await conn.execute(
                        update(conversations)
                        .where(conversations.c.id == found)
                        .values(**values, updated_at=now)
                    )
                    return False
                try:
                    await conn.execute(
                        conversations.insert().values(**values, created_at=now, updated_at=now)
                    )
                    return True
                except IntegrityError:
                    # Two activities of one install (installationUpdate and conversationUpdate)
                    # raced; the other stored it, so refresh on the second pass.
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    async def deactivate(self, conversation_id: str) -> Conversation | None:
        """Mark a conversation the bot was removed from; return it when it was known."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(conversations)
                .where(conversations.c.conversation_id == conversation_id)
                .values(active=False, updated_at=datetime.now(UTC))
            )
            row = (
                await conn.execute(
                    select(conversations).where(conversations.c.conversation_id == conversation_id)
                )
            ).first()
        return None if row is None else _conversation(row)

    async def get(self, conversation_id: str) -> Conversation | None:
        """Return the stored conversation with this id."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(conversations).where(conversations.c.conversation_id == conversation_id)
                )
            ).first()
        return None if row is None else _conversation(row)

    async def personal(self, tenant_id: str, person_id: str) -> Conversation | None:
        """Return the personal chat with a person, named by Entra object id or 29: id."""
        query = (
            select(conversations)
            .where(
                conversations.c.tenant_id == tenant_id,
                conversations.c.conversation_type == PERSONAL,
                (conversations.c.aad_object_id == person_id)
                | (conversations.c.user_id == person_id),
            )
            .order_by(conversations.c.updated_at.desc())
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _conversation(row)

    async def aad_of(self, tenant_id: str, user_id: str) -> str | None:
        """Return the Entra object id of a 29: user id, when a personal chat told us."""
        query = select(conversations.c.aad_object_id).where(
            and_(
                conversations.c.tenant_id == tenant_id,
                conversations.c.user_id == user_id,
                conversations.c.aad_object_id.is_not(None),
            )
        )
        async with self.engine.connect() as conn:
            found: str | None = await conn.scalar(query.limit(1))
        return found

    async def in_tenant(self, tenant_id: str) -> Conversation | None:
        """Return the most recently seen active conversation of a tenant (for its serviceUrl)."""
        query = (
            select(conversations)
            .where(conversations.c.tenant_id == tenant_id, conversations.c.active.is_(True))
            .order_by(conversations.c.updated_at.desc())
            .limit(1)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _conversation(row)


__all__ = ["PERSONAL", "Conversation", "ConversationStore", "conversations", "teams_metadata"]
