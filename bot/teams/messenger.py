"""Deliver neutral messages as Teams 1:1 chat cards through the Bot Connector.

A message goes to the person's stored personal conversation with ``continue_conversation``; when
there is none yet, the bot opens one with ``create_conversation`` (tenant id and the person's
``29:`` id, looked up in a team roster by Entra object id when needed) and stores it. Failures
map to the core's ``DeliveryError`` in ``failures``; a retried in-doubt send is checked in
``in_doubt``; calls are paced by ``limits``; people are found in team ``rosters``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.cloud_adapter_base import CloudAdapterBase
from botbuilder.schema import (
    ChannelAccount,
    ConversationParameters,
    ErrorResponseException,
)
from msrest.exceptions import ClientRequestError

from bot.teams.activities import CHANNEL_ID, reference_to, to_activity
from bot.teams.cards import (
    CARD_CONTENT_TYPE,
    CARD_SCHEMA,
    CARD_VERSION,
    DELIVERY_ID_KEY,
    render_message,
)
from bot.teams.downloads import Downloads
from bot.teams.failures import IN_DOUBT, MAYBE_POSTED, NOT_POSTED, delivery_error, failure_of
from bot.teams.in_doubt import GraphChats, earlier_copy
from bot.teams.limits import CONVERSATION_WINDOWS, TENANT_WINDOWS, WindowLimiter
from bot.teams.references import PERSONAL, Conversation, ConversationStore
from bot.teams.rosters import Rosters
from nudges.domain import Platform
from nudges.messages import Message
from nudges.ports import DeliveryError, MessageRef, Recipient

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30
DEFAULT_QUICK_RETRIES = 2
DEFAULT_MAX_QUICK_WAIT = 10.0


class TeamsMessenger:
    """Send and update 1:1 chat cards in Teams; implements ``nudges.ports.Messenger``."""

    def __init__(
        self,
        adapter: CloudAdapterBase,
        store: ConversationStore,
        *,
        app_id: str | None,
        graph: GraphChats | None = None,
        # Overrides the roster lookup of mentioned people's display names (tenant -> names).
        names: Callable[[str], Awaitable[Mapping[str, str]]] | None = None,
        conversation_limiter: WindowLimiter | None = None,
        tenant_limiter: WindowLimiter | None = None,
        quick_retries: int = DEFAULT_QUICK_RETRIES,
        max_quick_wait: float = DEFAULT_MAX_QUICK_WAIT,
        timeout: int = DEFAULT_TIMEOUT,
        downloads: Downloads | None = None,
    ) -> None:
        self.adapter = adapter
        self.store = store
        self.app_id = app_id
        self.graph = graph
        # Where files (data exports) are kept for the person to download; None: no files.
        self.downloads = downloads
        self._per_conversation = conversation_limiter or WindowLimiter(CONVERSATION_WINDOWS)
        self._per_tenant = tenant_limiter or WindowLimiter(TENANT_WINDOWS)
        self.quick_retries = quick_retries
        self.max_quick_wait = max_quick_wait
        self.timeout = timeout
        self.rosters = Rosters(store, self._roster_call, names=names)

    # --- the port -------------------------------------------------------------------

    async def send(
        self, recipient: Recipient, message: Message, *, retry: bool = False
    ) -> MessageRef:
        """Post the message as a card in the person's 1:1 chat and return where it landed."""
        _check_platform(recipient)
        tenant = recipient.workspace_external_id
        conversation = await self.store.personal(tenant, recipient.user_external_id)
        if conversation is not None and not conversation.active:
            raise DeliveryError("app_removed: the app was removed from this chat", permanent=True)
        activity = render_message(message, await self.rosters.names_for(tenant, message))
        delivery_id = message.metadata.get(DELIVERY_ID_KEY, "")
        if conversation is None:
            conversation = await self._open_chat(recipient)
        elif retry and delivery_id:
            earlier = await earlier_copy(self.store.engine, self.graph, conversation, delivery_id)
            if earlier is not None:
                logger.info(
                    "teams message for delivery %s was already posted (%s); not posting again",
                    delivery_id,
                    earlier,
                )
                return MessageRef(conversation.conversation_id, earlier)
        activity_id = await self._post(conversation, activity, recipient)
        logger.info(
            "sent teams message tenant=%s user=%s conversation=%s id=%s",
            tenant,
            recipient.user_external_id,
            conversation.conversation_id,
            activity_id,
        )
        return MessageRef(conversation.conversation_id, activity_id)

    async def update(self, recipient: Recipient, ref: MessageRef, message: Message) -> None:
        """Replace a card the bot posted earlier."""
        _check_platform(recipient)
        conversation = await self.store.get(ref.channel)
        if conversation is None:
            raise DeliveryError("conversation_unknown", permanent=True, scope="message")
        activity = render_message(
            message, await self.rosters.names_for(conversation.tenant_id, message)
        )
        activity["id"] = ref.message_id

        async def put(client: Any) -> str:
            await client.conversations.update_activity(
                conversation.conversation_id, ref.message_id, to_activity(activity, conversation)
            )
            return ref.message_id

        # Replacing a card is idempotent: every failure that may pass is worth a quick retry.
        await self._call(conversation, put, "update", recipient, idempotent=True)
        logger.info(
            "updated teams message tenant=%s conversation=%s id=%s",
            conversation.tenant_id,
            conversation.conversation_id,
            ref.message_id,
        )

    # --- conversations ---------------------------------------------------------------

    async def _open_chat(self, recipient: Recipient) -> Conversation:
        """Create the 1:1 chat with a person who has none stored yet, and store it."""
        tenant = recipient.workspace_external_id
        via = await self.store.in_tenant(tenant)
        if via is None:
            raise DeliveryError(
                "not_installed: the app is not installed anywhere in this tenant",
                permanent=True,
                scope="workspace",
            )
        user_id = recipient.user_external_id
        aad: str | None = None
        if not user_id.startswith("29:"):
            aad = user_id
            user_id = await self.rosters.roster_id(tenant, aad, via)
        params = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=via.bot_id),
            members=[ChannelAccount(id=user_id, aad_object_id=aad)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}},
        )
        created: dict[str, str] = {}

        async def logic(context: TurnContext) -> None:
            created["id"] = str(context.activity.conversation.id)

        await self._per_conversation.acquire(f"create:{tenant}:{user_id}")
        await self._per_tenant.acquire(tenant)
        try:
            await self.adapter.create_conversation(
                self.app_id or "", logic, params, CHANNEL_ID, via.service_url
            )
        except (ErrorResponseException, ClientRequestError, OSError) as exc:
            # Nothing is posted by creating a chat, so no failure here is in doubt.
            raise delivery_error("create", failure_of(exc, in_doubt_statuses=frozenset())) from exc
        conversation = Conversation(
            tenant_id=tenant,
            conversation_id=created["id"],
            conversation_type=PERSONAL,
            service_url=via.service_url,
            bot_id=via.bot_id,
            user_id=user_id,
            aad_object_id=aad,
        )
        await self.store.remember(conversation)
        return conversation

    # --- the wire --------------------------------------------------------------------

    async def send_file(
        self, recipient: Recipient, filename: str, data: bytes, message: str
    ) -> MessageRef:
        """Post ``message`` with a link that downloads ``data`` as ``filename`` for a while."""
        if self.downloads is None:
            raise DeliveryError("downloads are not served by this process", permanent=True)
        _check_platform(recipient)
        conversation = await self.store.personal(
            recipient.workspace_external_id, recipient.user_external_id
        )
        if conversation is None:
            conversation = await self._open_chat(recipient)
        url = await self.downloads.keep(filename, data)
        card = {
            "type": "AdaptiveCard",
            "$schema": CARD_SCHEMA,
            "version": CARD_VERSION,
            "body": [{"type": "TextBlock", "text": message, "wrap": True}],
            "actions": [{"type": "Action.OpenUrl", "title": filename, "url": url}],
        }
        activity = {
            "type": "message",
            "summary": message[:120],
            "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
        }
        activity_id = await self._post(conversation, activity, recipient)
        return MessageRef(conversation.conversation_id, activity_id)

    async def _post(
        self, conversation: Conversation, activity: dict[str, Any], recipient: Recipient
    ) -> str:
        async def post(client: Any) -> str:
            response = await client.conversations.send_to_conversation(
                conversation.conversation_id, to_activity(activity, conversation)
            )
            if response is None or not getattr(response, "id", None):
                raise DeliveryError(f"{IN_DOUBT}: posted without an id", permanent=False)
            return str(response.id)

        return await self._call(conversation, post, "send", recipient, idempotent=False)

    async def _call(
        self,
        conversation: Conversation,
        operation: Callable[[Any], Awaitable[str]],
        name: str,
        recipient: Recipient | None,
        *,
        idempotent: bool,
    ) -> str:
        in_doubt = frozenset() if idempotent else MAYBE_POSTED
        attempt = 0
        while True:
            await self._per_conversation.acquire(conversation.conversation_id)
            await self._per_tenant.acquire(conversation.tenant_id)
            try:
                return await self._continue(conversation, operation)
            except (ErrorResponseException, ClientRequestError, OSError) as exc:
                failure = failure_of(exc, in_doubt_statuses=in_doubt, idempotent=idempotent)
            attempt += 1
            quick = failure.status in NOT_POSTED or (idempotent and failure.status >= 500)
            wait = failure.retry_after if failure.retry_after is not None else 0.5 * attempt
            if quick and attempt <= self.quick_retries and wait <= self.max_quick_wait:
                logger.info("teams %s answered %s; retrying in %.1fs", name, failure.status, wait)
                await asyncio.sleep(wait)
                continue
            error = delivery_error(name, failure)
            logger.warning(
                "teams %s failed tenant=%s user=%s reason=%s permanent=%s retry_after=%s",
                name,
                conversation.tenant_id,
                recipient.user_external_id if recipient else "-",
                error.reason,
                error.permanent,
                error.retry_after,
            )
            raise error

    async def _roster_call(
        self, conversation: Conversation, operation: Callable[[Any], Awaitable[str]]
    ) -> str:
        return await self._call(conversation, operation, "roster", None, idempotent=True)

    async def _continue(
        self, conversation: Conversation, operation: Callable[[Any], Awaitable[str]]
    ) -> str:
        result: dict[str, str] = {}

        async def logic(context: TurnContext) -> None:
            client = context.turn_state.get(self.adapter.BOT_CONNECTOR_CLIENT_KEY)
            # msrest would resend on its own; the dispatcher decides about retries instead.
            client.config.retry_policy.retries = 0
            client.config.connection.timeout = self.timeout
            result["id"] = await operation(client)

        await self.adapter.continue_conversation(
            reference_to(conversation), logic, self.app_id or None
        )
        return result["id"]


def _check_platform(recipient: Recipient) -> None:
    if recipient.platform != Platform.TEAMS:
        raise DeliveryError(
            f"not a teams recipient: {recipient.platform}", permanent=True, scope="message"
        )
