"""Deliver neutral messages as Teams 1:1 chat cards through the Bot Connector.

A message goes to the person's stored personal conversation with ``continue_conversation``; when
there is none yet, the bot opens one with ``create_conversation`` (tenant id and the person's
``29:`` id, looked up in a team roster by Entra object id when needed) and stores it.

Failures map to the core's ``DeliveryError`` (status table in platform-samples PROACTIVE.md):
403 (not in roster, blocked) and a removed app are the recipient's, with no retry; 429, 412 and
503 are transient and were certainly not posted; 500, 502 and 504 on a send, or an answer lost
on the wire, are *in doubt*: Teams may have posted the card. The connector cannot list a 1:1
chat, so a retried in-doubt send first reads the chat through Microsoft Graph (when configured)
looking for the delivery's marker in the card; without Graph it refuses to post again rather
than risk a second copy.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import requests
from botbuilder.core import TurnContext
from botbuilder.core.cloud_adapter_base import CloudAdapterBase
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
    ErrorResponseException,
)
from msrest.exceptions import ClientRequestError
from sqlalchemy import select

from bot.settings import Settings
from bot.teams.cards import (
    CARD_CONTENT_TYPE,
    CARD_SCHEMA,
    CARD_VERSION,
    DELIVERY_ID_KEY,
    delivery_marker,
    mentioned_ids,
    render_message,
)
from bot.teams.downloads import Downloads
from bot.teams.graph import GraphClient, GraphError, GraphTokens
from bot.teams.references import PERSONAL, Conversation, ConversationStore, conversations
from nudges.domain import Platform
from nudges.messages import Message
from nudges.ports import DeliveryError, FailureScope, MessageRef, Recipient
from nudges.store.deliveries import Delivery

logger = logging.getLogger(__name__)

CHANNEL_ID = "msteams"
# A reason starting with this says Teams may hold the message although the send failed.
IN_DOUBT = "in_doubt"
# Per bot per conversation (send and create), from Teams' rate-limit page (LIMITS.md).
CONVERSATION_WINDOWS: tuple[tuple[int, float], ...] = (
    (7, 1.0),
    (8, 2.0),
    (60, 30.0),
    (1800, 3600.0),
)
# Global per app per tenant.
TENANT_WINDOWS: tuple[tuple[int, float], ...] = ((30, 1.0),)
# Statuses after which Teams certainly did not post: safe to send again at once.
NOT_POSTED = frozenset({412, 429, 503})
# Statuses a gateway answers when it may have lost Teams' answer.
MAYBE_POSTED = frozenset({500, 502, 504})
RECIPIENT_CODES = frozenset(
    {"BotNotInConversationRoster", "ConversationBlockedByUser", "ConversationNotFound"}
)
WORKSPACE_CODES = frozenset({"BotDisabledByAdmin", "Unauthorized", "AuthenticationError"})
DEFAULT_TIMEOUT = 30
DEFAULT_QUICK_RETRIES = 2
DEFAULT_MAX_QUICK_WAIT = 10.0
# How long a looked-up display name (or its absence) is trusted.
NAME_TTL = 3600.0


class WindowLimiter:
    """Hold a caller back so no key exceeds any of its (count, seconds) sliding windows."""

    def __init__(
        self,
        windows: tuple[tuple[int, float], ...],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.windows = windows
        self._clock = clock
        self._sleep = sleep
        self._longest = max(seconds for _, seconds in windows)
        self._history: dict[str, deque[float]] = defaultdict(deque)
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def delay(self, key: str) -> float:
        """Return how long ``key`` must wait before its next request."""
        now = self._clock()
        history = self._history[key]
        while history and now - history[0] >= self._longest:
            history.popleft()
        wait = 0.0
        for count, seconds in self.windows:
            recent = [t for t in history if now - t < seconds]
            if len(recent) >= count:
                wait = max(wait, recent[-count] + seconds - now)
        return wait

    async def acquire(self, key: str) -> None:
        """Wait until ``key`` may send, then count the send."""
        async with self._locks[key]:
            while (wait := self.delay(key)) > 0:
                await self._sleep(wait)
            self._history[key].append(self._clock())


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


@dataclass(frozen=True)
class _Failure:
    status: int
    code: str
    retry_after: float | None
    in_doubt: bool


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
        self._names = names
        self._per_conversation = conversation_limiter or WindowLimiter(CONVERSATION_WINDOWS)
        self._per_tenant = tenant_limiter or WindowLimiter(TENANT_WINDOWS)
        self.quick_retries = quick_retries
        self.max_quick_wait = max_quick_wait
        self.timeout = timeout
        self._name_cache: dict[tuple[str, str], tuple[str | None, float]] = {}

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
        activity = render_message(message, await self._names_for(tenant, message))
        delivery_id = message.metadata.get(DELIVERY_ID_KEY, "")
        if conversation is None:
            conversation = await self._open_chat(recipient)
        elif retry and delivery_id:
            earlier = await self._earlier(conversation, delivery_id)
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
        activity = render_message(message, await self._names_for(conversation.tenant_id, message))
        activity["id"] = ref.message_id

        async def put(client: Any) -> str:
            await client.conversations.update_activity(
                conversation.conversation_id, ref.message_id, _to_activity(activity, conversation)
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
            user_id = await self._roster_id(tenant, aad, via)
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
            raise self._error("create", _failure(exc, in_doubt_statuses=frozenset())) from exc
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

    async def _teams_of(self, tenant: str) -> list[tuple[str, str]]:
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

    async def _member(self, tenant: str, person: str, bot_id: str) -> tuple[str, str | None] | None:
        """Look a person up (Entra object id or 29: id) in the rosters of the bot's teams."""
        for team_id, service_url in await self._teams_of(tenant):
            team = Conversation(tenant, team_id, "channel", service_url, bot_id)

            async def member(client: Any, team_id: str = team_id) -> str:
                found = await client.conversations.get_conversation_member(team_id, person)
                return json.dumps([str(found.id), found.name or None])

            try:
                raw = await self._call(team, member, "roster", None, idempotent=True)
            except DeliveryError as exc:
                if exc.permanent:
                    continue
                raise
            user_id, name = json.loads(raw)
            return str(user_id), name
        return None

    async def _roster_id(self, tenant: str, aad: str, via: Conversation) -> str:
        """Find a person's 29: id in the roster of a team the bot is in, by Entra object id."""
        found = await self._member(tenant, aad, via.bot_id)
        if found is None:
            raise DeliveryError(
                "not_installed: no chat with this person and not found in any team of the bot; "
                "they need to install the app",
                permanent=True,
            )
        self._name_cache[(tenant, aad)] = (found[1], time.monotonic() + NAME_TTL)
        return found[0]

    async def _names_for(self, tenant: str, message: Message) -> Mapping[str, str]:
        """Name the people a message mentions, from team rosters; unknown ones stay ids."""
        if self._names is not None:
            return await self._names(tenant)
        names: dict[str, str] = {}
        now = time.monotonic()
        via: Conversation | None = None
        for person in mentioned_ids(message):
            cached = self._name_cache.get((tenant, person))
            if cached is None or cached[1] < now:
                via = via or await self.store.in_tenant(tenant)
                if via is None:
                    break
                try:
                    found = await self._member(tenant, person, via.bot_id)
                except DeliveryError:
                    # A name is a nicety: a roster hiccup must not hold the message back.
                    found = None
                cached = (found[1] if found else None, now + NAME_TTL)
                self._name_cache[(tenant, person)] = cached
            if cached[0]:
                names[person] = cached[0]
        return names

    # --- in-doubt sends --------------------------------------------------------------

    async def _earlier(self, conversation: Conversation, delivery_id: str) -> str | None:
        """Return the id of an earlier copy of this delivery, or None when posting is safe."""
        if not await self._was_in_doubt(delivery_id):
            return None
        if self.graph is not None:
            try:
                return await self.graph.find(conversation, delivery_id)
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

    async def _was_in_doubt(self, delivery_id: str) -> bool:
        try:
            key = int(delivery_id)
        except ValueError:
            return True
        async with self.store.engine.connect() as conn:
            last_error = await conn.scalar(select(Delivery.last_error).where(Delivery.id == key))
        return isinstance(last_error, str) and last_error.startswith(IN_DOUBT)

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
                conversation.conversation_id, _to_activity(activity, conversation)
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
                failure = _failure(exc, in_doubt_statuses=in_doubt, idempotent=idempotent)
            attempt += 1
            quick = failure.status in NOT_POSTED or (idempotent and failure.status >= 500)
            wait = failure.retry_after if failure.retry_after is not None else 0.5 * attempt
            if quick and attempt <= self.quick_retries and wait <= self.max_quick_wait:
                logger.info("teams %s answered %s; retrying in %.1fs", name, failure.status, wait)
                await asyncio.sleep(wait)
                continue
            error = self._error(name, failure)
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
            _reference(conversation), logic, self.app_id or None
        )
        return result["id"]

    @staticmethod
    def _error(name: str, failure: _Failure) -> DeliveryError:
        reason = failure.code or f"http_{failure.status}"
        if failure.in_doubt:
            return DeliveryError(f"{IN_DOUBT}: {reason}", permanent=False)
        if failure.status == 0 or failure.status in NOT_POSTED or failure.status >= 500:
            return DeliveryError(reason, permanent=False, retry_after=failure.retry_after)
        scope: FailureScope
        if failure.status == 413 or failure.status == 400:
            scope = "message"
        elif failure.status == 401 or failure.code in WORKSPACE_CODES:
            scope = "workspace"
        elif failure.status == 404 and name == "update":
            scope = "message"
        else:
            scope = "recipient"
        return DeliveryError(reason, permanent=True, scope=scope)


def _failure(
    exc: BaseException, *, in_doubt_statuses: frozenset[int], idempotent: bool = False
) -> _Failure:
    if isinstance(exc, ErrorResponseException):
        response = exc.response
        status = int(getattr(response, "status_code", 0) or 0)
        code = ""
        error = getattr(getattr(exc, "error", None), "error", None)
        if error is not None and getattr(error, "code", None):
            code = str(error.code)
        headers = getattr(response, "headers", None) or {}
        return _Failure(status, code, _retry_after(headers), status in in_doubt_statuses)
    inner = getattr(exc, "inner_exception", exc)
    # Refused before anything was written: certainly not posted. Any other wire failure may
    # have happened after Teams took the message.
    clean = isinstance(inner, requests.exceptions.ConnectTimeout) or (
        "NewConnectionError" in repr(inner)
    )
    return _Failure(0, "connection_error", None, not clean and not idempotent)


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                return None
    return None


def _reference(conversation: Conversation) -> ConversationReference:
    # No activity id: a proactive card starts a new message instead of replying to one.
    return ConversationReference(
        channel_id=CHANNEL_ID,
        service_url=conversation.service_url,
        bot=ChannelAccount(id=conversation.bot_id),
        user=ChannelAccount(id=conversation.user_id, aad_object_id=conversation.aad_object_id)
        if conversation.user_id
        else None,
        conversation=ConversationAccount(
            id=conversation.conversation_id,
            conversation_type=conversation.conversation_type,
            tenant_id=conversation.tenant_id,
        ),
        locale=conversation.locale,
    )


def _to_activity(payload: Mapping[str, Any], conversation: Conversation) -> Activity:
    activity: Activity = Activity.deserialize(dict(payload))
    activity.channel_id = CHANNEL_ID
    activity.service_url = conversation.service_url
    activity.conversation = ConversationAccount(
        id=conversation.conversation_id, tenant_id=conversation.tenant_id
    )
    activity.from_property = ChannelAccount(id=conversation.bot_id)
    if conversation.user_id:
        activity.recipient = ChannelAccount(id=conversation.user_id)
    return activity


def _check_platform(recipient: Recipient) -> None:
    if recipient.platform != Platform.TEAMS:
        raise DeliveryError(
            f"not a teams recipient: {recipient.platform}", permanent=True, scope="message"
        )


__all__ = [
    "IN_DOUBT",
    "GraphChats",
    "GraphError",
    "TeamsMessenger",
    "WindowLimiter",
    "graph_from_settings",
]
