"""Deliver neutral messages as Slack direct messages through the Web API."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import RandomJitter
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.slack import ClientFor
from bot.slack.blocks import METADATA_EVENT_TYPE, render_message, to_mrkdwn
from nudges.domain import Platform
from nudges.messages import Message
from nudges.ports import DeliveryError, FailureScope, MessageRef, Recipient

logger = logging.getLogger(__name__)

# Errors that will not go away by sending the same request again: the person, the channel or the
# installation is gone, or the payload is wrong (invalid_blocks is our bug, but resending it
# unchanged fails the same way every time).
PERMANENT_ERRORS = frozenset(
    {
        "user_not_found",
        "user_not_visible",
        "user_disabled",
        "account_inactive",
        "not_authed",
        "invalid_auth",
        "token_revoked",
        "token_expired",
        "no_permission",
        "access_denied",
        "ekm_access_denied",
        "org_login_required",
        "channel_not_found",
        "is_archived",
        "cannot_dm_bot",
        "missing_scope",
        "team_access_not_granted",
        "not_in_channel",
        "restricted_action",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "invalid_arguments",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "method_not_supported_for_channel_type",
    }
)
# Errors Slack itself describes as temporary; anything not listed in either set is treated as
# permanent, because an unknown answer to a well-formed request rarely fixes itself.
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)

DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RATE_LIMIT_WAIT = 30.0
SERVER_ERROR_STATUSES = frozenset({500, 502, 503, 504})


class CappedRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """Retry a 429 after its Retry-After, unless Slack asks for a longer wait than we allow."""

    def __init__(self, max_retry_count: int, max_wait: float, jitter: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait
        self.jitter = jitter

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        if _posts_a_message(request):
            # The dispatcher paces each workspace and must see a post's 429 to slow down.
            return False
        # A long Retry-After would stall the delivery tick; let the scheduler come back instead.
        wait = _retry_after(response.headers)
        return wait is None or wait <= self.max_wait

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        wait = _retry_after(response.headers) if response is not None else None
        # Slack sends Retry-After with every 429; should it ever not, wait a second.
        await asyncio.sleep((1.0 if wait is None else wait) + random.random() * self.jitter)
        state.increment_current_attempt()


def _posts_a_message(request: HttpRequest) -> bool:
    # After a 5xx or a dropped connection Slack may already have posted it; the dispatcher's
    # retry looks in the DM's history first, a blind re-post here could not.
    return request.url.rstrip("/").endswith("/chat.postMessage")


class GatewayErrorRetryHandler(AsyncServerErrorRetryHandler):
    """Retry server errors, including the 502 and 504 a gateway in front of Slack answers."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _posts_a_message(request):
            return False
        return response is not None and response.status_code in SERVER_ERROR_STATUSES


class DroppedConnectionRetryHandler(AsyncConnectionErrorRetryHandler):
    """Retry dropped connections, except for posting a message (see ``_posts_a_message``)."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _posts_a_message(request):
            return False
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


def retry_handlers(
    *,
    max_retries: int = DEFAULT_MAX_RETRIES,
    max_rate_limit_wait: float = DEFAULT_MAX_RATE_LIMIT_WAIT,
    backoff_factor: float = 0.5,
    jitter: float = 1.0,
) -> list[AsyncRetryHandler]:
    """Build retry handlers for rate limits, server errors and dropped connections."""
    interval = BackoffRetryIntervalCalculator(
        backoff_factor=backoff_factor, jitter=_ScaledJitter(jitter)
    )
    return [
        CappedRateLimitRetryHandler(max_retries, max_rate_limit_wait, jitter),
        GatewayErrorRetryHandler(max_retry_count=max_retries, interval_calculator=interval),
        DroppedConnectionRetryHandler(max_retry_count=max_retries, interval_calculator=interval),
    ]


def with_retry_handlers(
    client: AsyncWebClient,
    *,
    max_retries: int = DEFAULT_MAX_RETRIES,
    max_rate_limit_wait: float = DEFAULT_MAX_RATE_LIMIT_WAIT,
    backoff_factor: float = 0.5,
    jitter: float = 1.0,
) -> AsyncWebClient:
    """Attach retry handlers to ``client`` and return it."""
    client.retry_handlers = retry_handlers(
        max_retries=max_retries,
        max_rate_limit_wait=max_rate_limit_wait,
        backoff_factor=backoff_factor,
        jitter=jitter,
    )
    return client


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
        opened = await _call(
            "conversations.open",
            recipient,
            client.conversations_open(users=recipient.user_external_id),
        )
        channel = _required_str(opened, "channel", "id")
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
        _check_platform(recipient)
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
        posted = await _call(
            "chat.postMessage", recipient, client.chat_postMessage(channel=channel, **payload)
        )
        ts = _required_str(posted, "ts")
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
        _check_platform(recipient)
        client = await self._client(recipient.workspace_external_id)
        payload = render_message(message)
        await _call(
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
        _check_platform(recipient)
        client = await self._client_for(recipient.workspace_external_id)
        opened = await _call(
            "conversations.open",
            recipient,
            client.conversations_open(users=recipient.user_external_id),
        )
        channel = _required_str(opened, "channel", "id")
        uploaded = await _call(
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
        file_id = _required_str(uploaded, "file", "id")
        logger.info(
            "sent slack file workspace=%s user=%s channel=%s file=%s",
            recipient.workspace_external_id,
            recipient.user_external_id,
            channel,
            file_id,
        )
        return MessageRef(channel=channel, message_id=file_id)


SlackFailure = SlackClientError | aiohttp.ClientError | OSError

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


# The person cannot be messaged: only these make the core mark them unreachable.
RECIPIENT_ERRORS = frozenset(
    {
        "user_not_found",
        "user_not_visible",
        "user_disabled",
        "channel_not_found",
        "is_archived",
        "cannot_dm_bot",
        "not_in_channel",
    }
)
# The bot itself cannot post anywhere in the workspace: nothing is wrong with the recipient.
WORKSPACE_ERRORS = frozenset(
    {
        "account_inactive",
        "not_authed",
        "invalid_auth",
        "token_revoked",
        "token_expired",
        "no_permission",
        "access_denied",
        "ekm_access_denied",
        "org_login_required",
        "missing_scope",
        "team_access_not_granted",
        "not_installed",
    }
)


def failure_scope(code: str) -> FailureScope:
    """Say whom a Slack error code is about: the recipient, the workspace, or the message."""
    if code in RECIPIENT_ERRORS:
        return "recipient"
    if code in WORKSPACE_ERRORS:
        return "workspace"
    return "message"


def delivery_error(error: SlackFailure) -> DeliveryError:
    """Classify a failed Web API call as a permanent or transient delivery error."""
    if isinstance(error, SlackApiError):
        status = int(getattr(error.response, "status_code", 0) or 0)
        data = getattr(error.response, "data", None)
        code = str(data.get("error", "")) if isinstance(data, Mapping) else ""
        if status == 429 or code in ("ratelimited", "rate_limited"):
            headers = getattr(error.response, "headers", None) or {}
            return DeliveryError("ratelimited", permanent=False, retry_after=_retry_after(headers))
        if status >= 500:
            return DeliveryError(f"http_{status}", permanent=False)
        if not code:
            return DeliveryError(f"http_{status}", permanent=status >= 400, scope="message")
        if code not in TRANSIENT_ERRORS and code not in PERMANENT_ERRORS:
            logger.warning("unclassified slack error %s treated as permanent", code)
        return DeliveryError(
            code, permanent=code not in TRANSIENT_ERRORS, scope=failure_scope(code)
        )
    if isinstance(error, SlackClientError):
        # Raised before anything reached Slack: a misconfigured client, not a Slack outage.
        return DeliveryError(type(error).__name__, permanent=True, scope="workspace")
    return DeliveryError("connection_error", permanent=False)


async def _call(
    method: str, recipient: Recipient, call: Awaitable[AsyncSlackResponse]
) -> AsyncSlackResponse:
    try:
        return await call
    except (SlackClientError, aiohttp.ClientError, OSError) as exc:
        failure = delivery_error(exc)
        # Log the code only: the exception text may quote request arguments.
        logger.warning(
            "slack %s failed workspace=%s user=%s reason=%s permanent=%s retry_after=%s",
            method,
            recipient.workspace_external_id,
            recipient.user_external_id,
            failure.reason,
            failure.permanent,
            failure.retry_after,
        )
        raise failure from exc


class _ScaledJitter(RandomJitter):
    """Add up to ``scale`` seconds of random jitter (slack_sdk's adds up to one second)."""

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def recalculate(self, duration: float) -> float:
        """Return ``duration`` plus the jitter."""
        return duration + random.random() * self.scale


def _check_platform(recipient: Recipient) -> None:
    if recipient.platform != Platform.SLACK:
        raise DeliveryError(
            f"not a slack recipient: {recipient.platform}", permanent=True, scope="message"
        )


def _required_str(response: AsyncSlackResponse, *keys: str) -> str:
    data: Any = response.data
    for key in keys:
        data = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(data, str) or not data:
        # ok:true without the field we need would be a Slack-side fault; try again later.
        raise DeliveryError(f"unexpected_response:{'.'.join(keys)}", permanent=False)
    return data


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return None
    return None
