"""Map Slack Web API failures to delivery errors, and read what a Web API answer must hold."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from nudges.domain import Platform
from nudges.ports import DeliveryError, FailureScope, Recipient

logger = logging.getLogger(__name__)

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


# Errors about the message itself: the payload is wrong (invalid_blocks is our bug, but resending
# it unchanged fails the same way every time) or the message cannot be changed any more.
MESSAGE_ERRORS = frozenset(
    {
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
# Errors that will not go away by sending the same request again: the person, the channel or the
# installation is gone, or the payload is wrong.
PERMANENT_ERRORS = RECIPIENT_ERRORS | WORKSPACE_ERRORS | MESSAGE_ERRORS
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

SlackFailure = SlackClientError | aiohttp.ClientError | OSError


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
            return DeliveryError("ratelimited", permanent=False, retry_after=retry_after(headers))
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


async def call(
    method: str, recipient: Recipient, call: Awaitable[AsyncSlackResponse]
) -> AsyncSlackResponse:
    """Await a Web API call; log and raise its failure as a ``DeliveryError``."""
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


def check_platform(recipient: Recipient) -> None:
    """Refuse a recipient of another platform."""
    if recipient.platform != Platform.SLACK:
        raise DeliveryError(
            f"not a slack recipient: {recipient.platform}", permanent=True, scope="message"
        )


def required_str(response: AsyncSlackResponse, *keys: str) -> str:
    """Return the non-empty string at ``keys`` in a Web API answer, or raise a transient error."""
    data: Any = response.data
    for key in keys:
        data = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(data, str) or not data:
        # ok:true without the field we need would be a Slack-side fault; try again later.
        raise DeliveryError(f"unexpected_response:{'.'.join(keys)}", permanent=False)
    return data


def retry_after(headers: Mapping[str, Any]) -> float | None:
    """Read a Retry-After header in seconds, if there is a usable one."""
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return None
    return None
