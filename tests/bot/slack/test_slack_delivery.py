"""The dispatcher delivering through the real SlackMessenger to the fake Slack Web API."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.slack.messenger import SlackMessenger
from bot.slack.retries import with_retry_handlers
from nudges.content.catalogue import default_catalogue
from nudges.domain import DeliveryStatus
from nudges.ports import FakeClock, MessageRef
from nudges.services.dispatch import Dispatcher, EngineConfig
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from tests.fakes.slack_api import FakeSlackApi
from tests.nudges.orgs import make_org

TUESDAY_10_AMS = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def test_a_lost_answer_from_slack_never_becomes_a_second_dm(
    db: Database, slack_api: FakeSlackApi
) -> None:
    client = with_retry_handlers(
        AsyncWebClient(token="xoxb-test", base_url=slack_api.base_url), backoff_factor=0.01
    )

    async def client_for(_workspace: str) -> AsyncWebClient:
        return client

    clock = FakeClock(TUESDAY_10_AMS)
    await make_org(db, created=TUESDAY_10_AMS - timedelta(days=1), managers={"U0MGR": ["U0A"]})
    dispatcher = Dispatcher(
        db,
        clock,
        default_catalogue(),
        {"slack": SlackMessenger(client_for)},
        EngineConfig(send_rate_per_workspace=1000, initial_rate=1000),
        rng=random.Random(5),
    )
    slack_api.fail_next("chat.postMessage", after_accept=True)
    first = await dispatcher.tick()
    assert first.deferred == 1
    clock.advance(timedelta(minutes=5))
    second = await dispatcher.tick()
    assert second.sent == 1

    assert len(slack_api.messages) == 1
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    ((channel, ts),) = slack_api.messages
    async with db.session() as s:
        (row,) = (await s.scalars(select(Delivery))).all()
    assert row.status == DeliveryStatus.SENT
    assert row.attempts == 2
    assert row.message_ref == MessageRef(channel, ts).encode()
