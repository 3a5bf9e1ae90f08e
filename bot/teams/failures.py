"""Map Bot Connector failures to the core's ``DeliveryError`` (PROACTIVE.md status table).

403 (not in roster, blocked) and a removed app are the recipient's, with no retry; 429, 412 and
503 are transient and were certainly not posted; 500, 502 and 504 on a send, or an answer lost
on the wire, are *in doubt*: Teams may have posted the card.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from botbuilder.schema import ErrorResponseException

from nudges.ports import DeliveryError, FailureScope

# A reason starting with this says Teams may hold the message although the send failed.
IN_DOUBT = "in_doubt"

# Statuses after which Teams certainly did not post: safe to send again at once.
NOT_POSTED = frozenset({412, 429, 503})
# Statuses a gateway answers when it may have lost Teams' answer.
MAYBE_POSTED = frozenset({500, 502, 504})
RECIPIENT_CODES = frozenset(
    {"BotNotInConversationRoster", "ConversationBlockedByUser", "ConversationNotFound"}
)
WORKSPACE_CODES = frozenset({"BotDisabledByAdmin", "Unauthorized", "AuthenticationError"})


@dataclass(frozen=True)
class Failure:
    """What a failed connector call said."""

    status: int
    code: str
    retry_after: float | None
    in_doubt: bool


def delivery_error(name: str, failure: Failure) -> DeliveryError:
    """Map a failed ``name`` call (send, update, create, roster) to the core's error."""
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


def failure_of(
    exc: BaseException, *, in_doubt_statuses: frozenset[int], idempotent: bool = False
) -> Failure:
    """Read a failed connector call: status, code, wait, and whether it may have posted."""
    if isinstance(exc, ErrorResponseException):
        response = exc.response
        status = int(getattr(response, "status_code", 0) or 0)
        code = ""
        error = getattr(getattr(exc, "error", None), "error", None)
        if error is not None and getattr(error, "code", None):
            code = str(error.code)
        headers = getattr(response, "headers", None) or {}
        return Failure(status, code, _retry_after(headers), status in in_doubt_statuses)
    inner = getattr(exc, "inner_exception", exc)
    # Refused before anything was written: certainly not posted. Any other wire failure may
    # have happened after Teams took the message.
    clean = isinstance(inner, requests.exceptions.ConnectTimeout) or (
        "NewConnectionError" in repr(inner)
    )
    return Failure(0, "connection_error", None, not clean and not idempotent)


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                return None
    return None
