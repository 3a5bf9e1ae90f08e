"""Deliver neutral messages as Slack direct messages through the Web API."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable

import aiohttp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import ClientFor
from bot.slack.blocks import METADATA_EVENT_TYPE, render_message, to_mrkdwn
from bot.slack.failures import call, check_platform, required_str
from nudges.messages import Message
from nudges.ports import DeliveryError, MessageRef, Recipient

logger = logging.getLogger(__name__)

# How long a workspace's client (and so its bot token) is reused before it is looked up again.
CLIENT_TTL = 300.0
# DM channel ids remembered; one per person messaged, a few dozen bytes each.
MAX_CHANNELS = 200_000


class SlackMessenger:
    """Send and update direct messages in Slack; implements ``nudges.ports.Messenger``.

    The client of a workspace (its bot token) and each person's DM channel id are remembered;
    a first message goes to the person's user id and Slack's answer names the DM, so a send is
    one Slack call. A failure that says either is stale forgets it.
    """

    def __init__(
        self, client_for: ClientFor, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._client_for = client_for
        self._clients: dict[str, tuple[AsyncWebClient, float]] = {}
        self._channels: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._now = monotonic
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Close the HTTP session shared by the cached clients."""
        # Cached clients hold the session: drop them so a later send opens a fresh one.
        self._clients.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _client(self, workspace: str) -> AsyncWebClient:
        cached = self._clients.get(workspace)
        if cached is not None and cached[1] > self._now():
            return cached[0]
        client = await self._client_for(workspace)
        if client.session is None or client.session.closed:
            # Without a session slack_sdk opens (and closes) a new one, and a connection, per call.
            if self._session is None or self._session.closed:
                self._session = aiohttp.ClientSession()
            client.session = self._session
        self._clients[workspace] = (client, self._now() + CLIENT_TTL)
        return client

    async def _channel(self, client: AsyncWebClient, recipient: Recipient) -> str:
        key = (recipient.workspace_external_id, recipient.user_external_id)
        channel = self._channels.get(key)
        if channel is not None:
            self._channels.move_to_end(key)
            return channel
        opened = await call(
            "conversations.open",
            recipient,
            client.conversations_open(users=recipient.user_external_id),
        )
        channel = required_str(opened, "channel", "id")
        self._remember(key, channel)
        return channel

    def _remember(self, key: tuple[str, str], channel: str) -> None:
        self._channels[key] = channel
        self._channels.move_to_end(key)
        if len(self._channels) > MAX_CHANNELS:
            self._channels.popitem(last=False)

    def _forget(self, recipient: Recipient, error: DeliveryError) -> None:
        if error.scope == "workspace":
            self._clients.pop(recipient.workspace_external_id, None)
        if error.permanent:
            self._channels.pop((recipient.workspace_external_id, recipient.user_external_id), None)

    async def send(
        self, recipient: Recipient, message: Message, *, retry: bool = False
    ) -> MessageRef:
        """Post the message in the recipient's DM; forget cached ids a failure proves stale."""
        try:
            return await self._send(recipient, message, retry=retry)
        except DeliveryError as exc:
            self._forget(recipient, exc)
            raise

    async def _send(
        self, recipient: Recipient, message: Message, *, retry: bool = False
    ) -> MessageRef:
        """Post the rendered message in the app's DM with the recipient.

        On a retry, the DM's recent history is searched first for a message carrying the same
        delivery id: an earlier attempt may have been posted although its answer was lost.
        """
        check_platform(recipient)
        client = await self._client(recipient.workspace_external_id)
        payload = render_message(message)
        delivery_id = message.metadata.get("delivery_id")
        key = (recipient.workspace_external_id, recipient.user_external_id)
        channel = self._channels.get(key)
        if channel is not None:
            self._channels.move_to_end(key)
        elif retry and delivery_id:
            # Looking back needs the DM's own id.
            channel = await self._channel(client, recipient)
        else:
            # Posted to a user id, Slack puts the message in the app's DM with that person and
            # answers with the DM's id: one call, where opening the DM first would be two.
            channel = recipient.user_external_id
        if retry and delivery_id:
            earlier = await _already_posted(client, channel, delivery_id)
            if earlier is not None:
                logger.info(
                    "slack message for delivery %s was already posted (ts=%s); not posting again",
                    delivery_id,
                    earlier,
                )
                return MessageRef(channel=channel, message_id=earlier)
        posted = await call(
            "chat.postMessage", recipient, client.chat_postMessage(channel=channel, **payload)
        )
        ts = required_str(posted, "ts")
        # Slack echoes the channel it really used; prefer it over the one we asked for.
        posted_channel = posted.get("channel")
        if isinstance(posted_channel, str) and posted_channel:
            channel = posted_channel
            self._remember(key, channel)
        elif channel == recipient.user_external_id:
            # A later update needs the DM's id, not the person's: ask for it.
            channel = await self._channel(client, recipient)
        logger.debug(
            "sent slack message workspace=%s user=%s channel=%s ts=%s",
            recipient.workspace_external_id,
            recipient.user_external_id,
            channel,
            ts,
        )
        return MessageRef(channel=channel, message_id=ts)

    async def update(self, recipient: Recipient, ref: MessageRef, message: Message) -> None:
        """Replace a message this bot posted earlier."""
        check_platform(recipient)
        client = await self._client(recipient.workspace_external_id)
        payload = render_message(message)
        await call(
            "chat.update",
            recipient,
            client.chat_update(channel=ref.channel, ts=ref.message_id, **payload),
        )
        logger.debug(
            "updated slack message workspace=%s channel=%s ts=%s",
            recipient.workspace_external_id,
            ref.channel,
            ref.message_id,
        )

    async def send_file(
        self, recipient: Recipient, filename: str, data: bytes, message: str
    ) -> MessageRef:
        """Upload a file into the DM with the recipient, with ``message`` as its comment."""
        check_platform(recipient)
        client = await self._client_for(recipient.workspace_external_id)
        opened = await call(
            "conversations.open",
            recipient,
            client.conversations_open(users=recipient.user_external_id),
        )
        channel = required_str(opened, "channel", "id")
        uploaded = await call(
            "files.upload",
            recipient,
            client.files_upload_v2(
                channel=channel,
                content=data,
                filename=filename,
                title=filename,
                initial_comment=to_mrkdwn(message),
            ),
        )
        file_id = required_str(uploaded, "file", "id")
        logger.info(
            "sent slack file workspace=%s user=%s channel=%s file=%s",
            recipient.workspace_external_id,
            recipient.user_external_id,
            channel,
            file_id,
        )
        return MessageRef(channel=channel, message_id=file_id)


# How far back a retry looks for its own earlier message: retries come minutes, not days, later.
HISTORY_LOOKBACK = 50


async def _already_posted(client: AsyncWebClient, channel: str, delivery_id: str) -> str | None:
    """Return the ts of a message in ``channel`` that carries ``delivery_id``, if any."""
    try:
        history = await client.conversations_history(
            channel=channel, limit=HISTORY_LOOKBACK, include_all_metadata=True
        )
    except (SlackClientError, aiohttp.ClientError, OSError) as exc:
        # Without history (an old install lacking im:history, a blip) we post: a rare duplicate
        # beats a lost message.
        logger.warning("slack history lookup failed: %s", type(exc).__name__)
        return None
    for item in history.get("messages") or []:
        metadata = item.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if (
            metadata.get("event_type") == METADATA_EVENT_TYPE
            and str(payload.get("delivery_id")) == delivery_id
        ):
            ts = item.get("ts")
            return str(ts) if ts else None
    return None
