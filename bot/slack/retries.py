"""Retry Slack Web API calls that may succeed later: rate limits, server errors, lost links."""

from __future__ import annotations

import asyncio
import random

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

from bot.slack.failures import retry_after

DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RATE_LIMIT_WAIT = 30.0
SERVER_ERROR_STATUSES = frozenset({500, 502, 503, 504})


class _NeverRepost(AsyncRetryHandler):
    """Never retry posting a message; ask the subclass about any other call."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        # After a 5xx or a dropped connection Slack may already have posted it; the dispatcher's
        # retry looks in the DM's history first, a blind re-post here could not. After a 429,
        # the dispatcher paces each workspace and must see a post's 429 to slow down.
        if request.url.rstrip("/").endswith("/chat.postMessage"):
            return False
        return self._may_retry(response, error)

    def _may_retry(self, response: HttpResponse | None, error: Exception | None) -> bool:
        """Say whether this answer or error is worth another attempt."""
        raise NotImplementedError


class CappedRateLimitRetryHandler(_NeverRepost, AsyncRateLimitErrorRetryHandler):
    """Retry a 429 after its Retry-After, unless Slack asks for a longer wait than we allow."""

    def __init__(self, max_retry_count: int, max_wait: float, jitter: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait
        self.jitter = jitter

    def _may_retry(self, response: HttpResponse | None, error: Exception | None) -> bool:
        if response is None or response.status_code != 429:
            return False
        # A long Retry-After would stall the delivery tick; let the scheduler come back instead.
        wait = retry_after(response.headers)
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
        wait = retry_after(response.headers) if response is not None else None
        # Slack sends Retry-After with every 429; should it ever not, wait a second.
        await asyncio.sleep((1.0 if wait is None else wait) + random.random() * self.jitter)
        state.increment_current_attempt()


class GatewayErrorRetryHandler(_NeverRepost, AsyncServerErrorRetryHandler):
    """Retry server errors, including the 502 and 504 a gateway in front of Slack answers."""

    def _may_retry(self, response: HttpResponse | None, error: Exception | None) -> bool:
        return response is not None and response.status_code in SERVER_ERROR_STATUSES


class DroppedConnectionRetryHandler(_NeverRepost, AsyncConnectionErrorRetryHandler):
    """Retry dropped connections, except for posting a message."""

    def _may_retry(self, response: HttpResponse | None, error: Exception | None) -> bool:
        return isinstance(error, tuple(self.error_types_to_do_retries))


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


class _ScaledJitter(RandomJitter):
    """Add up to ``scale`` seconds of random jitter (slack_sdk's adds up to one second)."""

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def recalculate(self, duration: float) -> float:
        """Return ``duration`` plus the jitter."""
        return duration + random.random() * self.scale
