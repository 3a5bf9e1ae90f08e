"""Tell whether a retried in-doubt send already reached Teams, by reading the chat through Graph.

The connector cannot list a 1:1 chat, so a retried in-doubt send first reads the chat through
Microsoft Graph (when configured) looking for the delivery's marker in the card; without Graph
it refuses to post again rather than risk a second copy.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import aiohttp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from bot.teams.cards import delivery_marker
from bot.teams.failures import IN_DOUBT
from bot.teams.graph import GraphClient, GraphError, GraphTokens
from bot.teams.references import Conversation
from nudges.ports import DeliveryError
from nudges.store.deliveries import Delivery

logger = logging.getLogger(__name__)


class GraphChats:
    """Find a delivered card in a 1:1 chat through Microsoft Graph (app-only token).

    Reading chat messages needs the ``ChatMessage.Read.Chat`` resource-specific permission in
    the app manifest (or the tenant-wide ``Chat.Read.All`` application permission, granted by an
    admin). ``graph_url`` and ``login_url`` are configurable so tests can use a local fake.
    """

    def __init__(
        self,
        *,
        app_id: str,
        app_password: str,
        graph_url: str = "https://graph.microsoft.com/v1.0/",
        login_url: str = "https://login.microsoftonline.com/",
        lookback: int = 50,
        client: GraphClient | None = None,
    ) -> None:
        self.app_id = app_id
        tokens = GraphTokens(app_id=app_id, app_password=app_password, login_url=login_url)
        self.client = client or GraphClient(tokens, graph_url)
        self.lookback = lookback

    @property
    def graph_url(self) -> str:
        """Return the Graph base URL the lookups go to."""
        return self.client.graph_url

    @property
    def login_url(self) -> str:
        """Return the login base URL the tokens come from."""
        return self.client.tokens.login_url

    def chat_id(self, conversation: Conversation) -> str:
        """Name the Graph chat of a personal bot conversation."""
        if conversation.conversation_id.startswith("19:"):
            return conversation.conversation_id
        # Graph names the 1:1 chat between a user and a bot after both ids.
        return f"19:{conversation.aad_object_id}_{self.app_id}@unq.gbl.spaces"

    async def find(self, conversation: Conversation, delivery_id: str) -> str | None:
        """Return the id of the message in the chat that carries ``delivery_id``'s marker."""
        marker = f'"{delivery_marker(delivery_id)}"'
        path = f"chats/{quote(self.chat_id(conversation), safe='')}/messages"
        listing = await self.client.get(
            conversation.tenant_id, path, params={"$top": str(self.lookback)}
        )
        for item in listing.get("value") or []:
            for attachment in item.get("attachments") or []:
                content = attachment.get("content")
                if isinstance(content, str) and marker in content:
                    return str(item.get("id"))
        return None


def graph_from_settings(settings: Settings, client: GraphClient | None = None) -> GraphChats | None:
    """Return the Graph lookup for in-doubt sends, or None when the app has no client secret."""
    if not settings.microsoft_app_id or not settings.microsoft_app_password:
        return None
    return GraphChats(
        app_id=settings.microsoft_app_id,
        app_password=settings.microsoft_app_password,
        graph_url=settings.microsoft_graph_url,
        login_url=settings.microsoft_login_url,
        client=client,
    )


async def earlier_copy(
    engine: AsyncEngine, graph: GraphChats | None, conversation: Conversation, delivery_id: str
) -> str | None:
    """Return the id of an earlier copy of this delivery, or None when posting is safe."""
    if not await _was_in_doubt(engine, delivery_id):
        return None
    if graph is not None:
        try:
            return await graph.find(conversation, delivery_id)
        except (LookupError, aiohttp.ClientError, OSError, ValueError, KeyError) as exc:
            logger.warning("graph lookup for delivery %s failed: %s", delivery_id, exc)
            if not (isinstance(exc, GraphError) and exc.lasting):
                # Graph may answer later; until then the delivery stays in doubt.
                raise DeliveryError(
                    f"{IN_DOUBT}: the chat could not be read yet to check for an earlier copy",
                    permanent=False,
                ) from exc
    # The connector gives no way to look back: posting now could post it twice.
    raise DeliveryError(
        f"{IN_DOUBT}_unverified: an earlier attempt may have reached Teams and the chat "
        "cannot be read to check; not posting a second copy",
        permanent=True,
        scope="message",
    )


async def _was_in_doubt(engine: AsyncEngine, delivery_id: str) -> bool:
    try:
        key = int(delivery_id)
    except ValueError:
        return True
    async with engine.connect() as conn:
        last_error = await conn.scalar(select(Delivery.last_error).where(Delivery.id == key))
    return isinstance(last_error, str) and last_error.startswith(IN_DOUBT)
