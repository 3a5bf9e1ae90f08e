from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.retries import with_retry_handlers
from tests.fakes.slack_api import FakeSlackApi

TOKEN = "xoxb-test-0000-secret"


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as api:
        yield api


@pytest.fixture
def client(slack_api: FakeSlackApi) -> AsyncWebClient:
    # No backoff or jitter so retry tests take milliseconds; Retry-After is still honoured.
    return with_retry_handlers(
        AsyncWebClient(token=TOKEN, base_url=slack_api.base_url),
        max_retries=2,
        max_rate_limit_wait=5,
        backoff_factor=0,
        jitter=0,
    )


@pytest.fixture
def client_for(client: AsyncWebClient) -> Callable[[str], Awaitable[AsyncWebClient]]:
    async def lookup(workspace_id: str) -> AsyncWebClient:
        return client

    return lookup
