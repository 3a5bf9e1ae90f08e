"""The TeamsMessenger through botbuilder's real CloudAdapter to the fake Bot Connector.

Auth is off (no app id), as with the Emulator, so the adapter sends without a token; everything
else (connector client, serialisation, HTTP) is the real botbuilder path.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from sqlalchemy import delete, select

from bot.settings import Settings
from bot.teams.in_doubt import GraphChats, graph_from_settings
from bot.teams.limits import WindowLimiter
from bot.teams.messenger import TeamsMessenger
from bot.teams.references import Conversation, ConversationStore, conversations
from nudges.content.catalogue import default_catalogue
from nudges.domain import DeliveryStatus
from nudges.messages import Actions, Button, Message, Text
from nudges.ports import DeliveryError, FakeClock, MessageRef, Recipient
from nudges.services.dispatch import Dispatcher, EngineConfig
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Person
from tests.fakes.bot_connector import BOT_ID, TENANT_ID, FakeBotConnector
from tests.nudges.orgs import make_org

TUESDAY_10_AMS = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
MANAGER = "5e7f7a46-1841-31c9-1e2f-2cc3c7630233"
MEMBER = "0c4b5a1e-9d1f-4d3c-8e7a-6b5c4d3e2f10"
MANAGER_29 = "29:1ManagerOfTheMessengerTestsPersonalIdForNudgebotFixtures"
PERSONAL_ID = "a:1PersonalChatOfTheMessengerTestsForNudgebotFixtures"
TEAM_ID = "19:zFLSDFWsesfzcmKArqKJ-65aOXJz@thread.tacv2"
APP_ID = "c82078e5-d7c2-0c3e-f3f3-e7362a22947f"


@dataclass(frozen=True)
class _NoAuth:
    APP_ID: str | None = None
    APP_PASSWORD: str | None = None
    APP_TYPE: str = "MultiTenant"
    APP_TENANTID: str | None = None


@pytest.fixture
async def connector() -> AsyncIterator[FakeBotConnector]:
    async with FakeBotConnector() as fake:
        yield fake


@pytest.fixture
async def store(db: Database) -> AsyncIterator[ConversationStore]:
    # The core's fixture clears only core tables; the Teams table is cleared here.
    async with db.engine.begin() as conn:
        await conn.execute(delete(conversations))
    yield ConversationStore(db.engine)


def _messenger(
    store: ConversationStore, *, graph: GraphChats | None = None, quick_retries: int = 2
) -> TeamsMessenger:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_NoAuth()))
    return TeamsMessenger(adapter, store, app_id=None, graph=graph, quick_retries=quick_retries)


async def _personal(store: ConversationStore, connector: FakeBotConnector) -> Conversation:
    conversation = Conversation(
        tenant_id=TENANT_ID,
        conversation_id=PERSONAL_ID,
        conversation_type="personal",
        service_url=connector.service_url,
        bot_id=BOT_ID,
        user_id=MANAGER_29,
        aad_object_id=MANAGER,
    )
    await store.remember(conversation)
    connector.conversations[PERSONAL_ID] = {"tenant": TENANT_ID, "user": MANAGER_29}
    return conversation


def _message(delivery_id: str = "41") -> Message:
    return Message(
        fallback="Your nudge",
        blocks=(Text("Tea?"), Actions("a", (Button("Done", "nudge.done", delivery_id),))),
        metadata={"delivery_id": delivery_id},
    )


RECIPIENT = Recipient("teams", TENANT_ID, MANAGER)


async def test_a_card_goes_to_the_stored_personal_chat_as_a_new_message(
    store: ConversationStore, connector: FakeBotConnector
) -> None:
    await _personal(store, connector)
    ref = await _messenger(store).send(RECIPIENT, _message())
    (posted,) = connector.posted
    assert ref == MessageRef(PERSONAL_ID, posted.activity_id)
    (call,) = connector.calls_to("send")
    assert call.path == f"/v3/conversations/{PERSONAL_ID}/activities"
    activity = call.activity
    assert activity["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert not activity.get("text")
    assert activity["conversation"]["id"] == PERSONAL_ID


async def test_a_person_without_a_chat_gets_one_created_from_a_team_roster(
    store: ConversationStore, connector: FakeBotConnector
) -> None:
    await store.remember(
        Conversation(
            tenant_id=TENANT_ID,
            conversation_id="19:channel@thread.tacv2",
            conversation_type="channel",
            service_url=connector.service_url,
            bot_id=BOT_ID,
            team_id=TEAM_ID,
        )
    )
    connector.rosters[TEAM_ID] = {MANAGER: MANAGER_29}
    messenger = _messenger(store)
    ref = await messenger.send(RECIPIENT, _message())
    (create,) = connector.calls_to("create")
    assert create.body["members"][0]["id"] == MANAGER_29
    assert create.body["channelData"]["tenant"]["id"] == TENANT_ID
    assert create.body["bot"]["id"] == BOT_ID
    stored = await store.personal(TENANT_ID, MANAGER)
    assert stored is not None and stored.conversation_id == ref.channel
    assert stored.user_id == MANAGER_29
    # The second card uses the stored chat.
    await messenger.send(RECIPIENT, _message("42"))
    assert len(connector.calls_to("create")) == 1
    assert len(connector.messages_in(ref.channel)) == 2


async def test_a_mentioned_person_is_named_from_a_team_roster_once(
    store: ConversationStore, connector: FakeBotConnector
) -> None:
    await _personal(store, connector)
    await store.remember(
        Conversation(
            tenant_id=TENANT_ID,
            conversation_id="19:channel@thread.tacv2",
            conversation_type="channel",
            service_url=connector.service_url,
            bot_id=BOT_ID,
            team_id=TEAM_ID,
        )
    )
    connector.rosters[TEAM_ID] = {MEMBER: "29:member"}
    connector.member_names[MEMBER] = "Anna de Vries"
    messenger = _messenger(store)
    message = Message("f", (Text(f"Coffee with <@{MEMBER}>? Or <@stranger>?"),))
    await messenger.send(RECIPIENT, message)
    await messenger.send(RECIPIENT, message)
    card = connector.posted[-1].activity["attachments"][0]["content"]
    assert card["body"][0]["text"] == "Coffee with <at>Anna de Vries</at>? Or <at>stranger</at>?"
    # One roster look-up per person, then the cache answers.
    lookups = [c for c in connector.calls if "/members/" in c.path]
    assert len(lookups) == 2


async def test_no_installation_in_the_tenant_is_a_workspace_failure(
    store: ConversationStore,
) -> None:
    with pytest.raises(DeliveryError) as caught:
        await _messenger(store).send(RECIPIENT, _message())
    assert caught.value.permanent and caught.value.scope == "workspace"


async def test_someone_in_no_team_and_without_a_chat_is_unreachable(
    store: ConversationStore, connector: FakeBotConnector
) -> None:
    await _personal(store, connector)
    with pytest.raises(DeliveryError) as caught:
        await _messenger(store).send(Recipient("teams", TENANT_ID, MEMBER), _message())
    assert caught.value.permanent and caught.value.scope == "recipient"
    assert caught.value.reason.startswith("not_installed")


@pytest.mark.parametrize("code", ["BotNotInConversationRoster", "ConversationBlockedByUser"])
async def test_a_403_is_a_permanent_recipient_failure_without_retry(
    store: ConversationStore, connector: FakeBotConnector, code: str
) -> None:
    await _personal(store, connector)
    connector.fail_next(403, code)
    with pytest.raises(DeliveryError) as caught:
        await _messenger(store).send(RECIPIENT, _message())
    assert caught.value.permanent
    assert caught.value.scope == "recipient"
    assert caught.value.reason == code
    assert len(connector.calls_to("send")) == 1


async def test_an_app_blocked_by_the_tenant_admin_is_a_workspace_failure(
    store: ConversationStore, connector: FakeBotConnector
) -> None:
    await _personal(store, connector)
    connector.fail_next(403, "BotDisabledByAdmin")
    with pytest.raises(DeliveryError) as caught:
        await _messenger(store).send(RECIPIENT, _message())
    assert caught.value.permanent and caught.value.scope == "workspace"


async def test_a_removed_app_stops_sends_to_that_chat(
    store: ConversationStore, connector: FakeBotConnector
) -> None:
    await _personal(store, connector)
    await store.deactivate(PERSONAL_ID)
    with pytest.raises(DeliveryError) as caught:
        await _messenger(store).send(RECIPIENT, _message())
    assert caught.value.permanent and caught.value.scope == "recipient"
    assert connector.calls == []


async def test_a_413_is_the_message_s_fault(
    store: ConversationStore, connector: FakeBotConnector
) -> None:
    await _personal(store, connector)
    connector.fail_next(413)
    with pytest.raises(DeliveryError) as caught:
        await _messenger(store).send(RECIPIENT, _message())
    assert caught.value.permanent and caught.value.scope == "message"


async def test_a_short_429_is_waited_out_and_a_long_one_goes_back_to_the_scheduler(
    store: ConversationStore, connector: FakeBotConnector
) -> None:
    await _personal(store, connector)
    messenger = _messenger(store)
    connector.fail_next(429, retry_after=0)
    await messenger.send(RECIPIENT, _message())
    assert len(connector.posted) == 1
    assert len(connector.calls_to("send")) == 2

    connector.fail_next(429, retry_after=120)
    with pytest.raises(DeliveryError) as caught:
        await messenger.send(RECIPIENT, _message("42"))
    assert not caught.value.permanent
    assert caught.value.retry_after == 120


@pytest.mark.parametrize("status", [412, 503])
async def test_statuses_that_post_nothing_are_retried(
    store: ConversationStore, connector: FakeBotConnector, status: int
) -> None:
    await _personal(store, connector)
    connector.fail_next(status, times=5)
    with pytest.raises(DeliveryError) as caught:
        await _messenger(store, quick_retries=1).send(RECIPIENT, _message())
    assert not caught.value.permanent
    assert not caught.value.reason.startswith("in_doubt")
    assert len(connector.calls_to("send")) == 2


@pytest.mark.parametrize("status", [502, 504])
async def test_a_gateway_error_on_a_send_is_in_doubt_and_not_resent_at_once(
    store: ConversationStore, connector: FakeBotConnector, status: int
) -> None:
    await _personal(store, connector)
    connector.fail_next(status, deliver=True)
    with pytest.raises(DeliveryError) as caught:
        await _messenger(store).send(RECIPIENT, _message())
    assert not caught.value.permanent
    assert caught.value.reason.startswith("in_doubt")
    assert len(connector.calls_to("send")) == 1


async def test_a_connection_dropped_after_teams_took_the_card_is_in_doubt(
    store: ConversationStore, connector: FakeBotConnector
) -> None:
    await _personal(store, connector)
    connector.fail_next(500, deliver=True, drop=True)
    with pytest.raises(DeliveryError) as caught:
        await _messenger(store).send(RECIPIENT, _message())
    assert not caught.value.permanent
    assert caught.value.reason.startswith("in_doubt")
    assert len(connector.posted) == 1
    assert len(connector.calls_to("send")) == 1


async def test_an_update_replaces_the_card_in_place_and_retries_a_throttle(
    store: ConversationStore, connector: FakeBotConnector
) -> None:
    await _personal(store, connector)
    messenger = _messenger(store)
    ref = await messenger.send(RECIPIENT, _message())
    connector.fail_next(429, operation="update", retry_after=0)
    done = Message("Done", (Text("Done, thanks"),), metadata={"delivery_id": "41"})
    await messenger.update(RECIPIENT, ref, done)
    (posted,) = connector.posted
    assert len(posted.versions) == 2
    (update,) = [c for c in connector.calls_to("update") if c is connector.calls_to("update")[-1]]
    assert update.path == f"/v3/conversations/{PERSONAL_ID}/activities/{ref.message_id}"
    body = posted.activity["attachments"][0]["content"]["body"]
    assert body[0]["text"] == "Done, thanks"


async def test_botbuilder_s_own_http_retries_are_off_so_retries_stay_countable(
    store: ConversationStore, connector: FakeBotConnector
) -> None:
    await _personal(store, connector)
    ref = await _messenger(store).send(RECIPIENT, _message())
    connector.fail_next(503, operation="update")
    with pytest.raises(DeliveryError) as caught:
        await _messenger(store, quick_retries=0).update(RECIPIENT, ref, _message())
    assert not caught.value.permanent
    # msrest would otherwise resend a PUT answered 503 three times on its own.
    assert len(connector.calls_to("update")) == 1


def test_the_limiter_keeps_a_conversation_under_teams_windows() -> None:
    now = [0.0]
    limiter = WindowLimiter(((7, 1.0), (8, 2.0)), clock=lambda: now[0])
    for _ in range(7):
        assert limiter.delay("c") == 0
        limiter._history["c"].append(now[0])
    assert limiter.delay("c") == pytest.approx(1.0)
    assert limiter.delay("other") == 0
    now[0] = 1.0
    assert limiter.delay("c") == 0
    limiter._history["c"].append(now[0])
    # Eight in two seconds: the ninth waits until the first is two seconds old.
    assert limiter.delay("c") == pytest.approx(1.0)


async def test_the_limiter_sleeps_instead_of_sending_too_fast() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = WindowLimiter(((2, 1.0),), clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        await limiter.acquire("t")
    assert slept == [1.0, 1.0]


# --- through the dispatcher: unreachable people, lost answers ----------------------------


async def _dispatcher(db: Database, messenger: TeamsMessenger, clock: FakeClock) -> Dispatcher:
    await make_org(
        db,
        created=TUESDAY_10_AMS - timedelta(days=1),
        managers={MANAGER: [MEMBER]},
        platform="teams",
        workspace=TENANT_ID,
    )
    return Dispatcher(
        db,
        clock,
        default_catalogue(),
        {"teams": messenger},
        # Retry-After pauses the workspace in real seconds; these tests travel in fake time.
        EngineConfig(send_rate_per_workspace=1000, max_pause=0.1),
        rng=random.Random(5),
    )


async def test_a_403_marks_the_person_unreachable_and_the_delivery_failed(
    db: Database, store: ConversationStore, connector: FakeBotConnector
) -> None:
    await _personal(store, connector)
    clock = FakeClock(TUESDAY_10_AMS)
    dispatcher = await _dispatcher(db, _messenger(store), clock)
    connector.fail_next(403, "ConversationBlockedByUser")
    result = await dispatcher.tick()
    assert result.failed == 1
    async with db.session() as s:
        (person,) = (await s.scalars(select(Person).where(Person.external_id == MANAGER))).all()
        (row,) = (await s.scalars(select(Delivery))).all()
    assert person.reachable is False
    assert person.unreachable_reason == "ConversationBlockedByUser"
    assert row.status == DeliveryStatus.FAILED
    clock.advance(timedelta(hours=1))
    await dispatcher.tick()
    assert len(connector.calls_to("send")) == 1


async def test_a_lost_answer_is_found_in_the_chat_through_graph_and_never_posted_twice(
    db: Database, store: ConversationStore, connector: FakeBotConnector
) -> None:
    await _personal(store, connector)
    graph = GraphChats(
        app_id=APP_ID,
        app_password="secret",
        graph_url=connector.graph_url,
        login_url=connector.base_url,
    )
    connector.name_graph_chat(PERSONAL_ID, f"19:{MANAGER}_{APP_ID}@unq.gbl.spaces")
    clock = FakeClock(TUESDAY_10_AMS)
    dispatcher = await _dispatcher(db, _messenger(store, graph=graph), clock)
    connector.fail_next(504, operation="send", deliver=True)
    first = await dispatcher.tick()
    assert first.deferred == 1
    clock.advance(timedelta(minutes=10))
    second = await dispatcher.tick()
    assert second.sent == 1

    (posted,) = connector.posted
    assert len(connector.calls_to("send")) == 1
    assert len(connector.graph_calls) == 1
    assert connector.graph_calls[0].headers["Authorization"] == "Bearer fake-connector-token"
    async with db.session() as s:
        (row,) = (await s.scalars(select(Delivery))).all()
    assert row.status == DeliveryStatus.SENT
    assert row.message_ref == MessageRef(PERSONAL_ID, posted.activity_id).encode()


async def test_a_lost_request_that_never_arrived_is_posted_once_after_the_graph_check(
    db: Database, store: ConversationStore, connector: FakeBotConnector
) -> None:
    await _personal(store, connector)
    graph = GraphChats(
        app_id=APP_ID, app_password="s", graph_url=connector.graph_url, login_url=connector.base_url
    )
    clock = FakeClock(TUESDAY_10_AMS)
    dispatcher = await _dispatcher(db, _messenger(store, graph=graph), clock)
    connector.fail_next(502, operation="send")
    await dispatcher.tick()
    clock.advance(timedelta(minutes=10))
    assert (await dispatcher.tick()).sent == 1
    assert len(connector.posted) == 1
    assert len(connector.graph_calls) == 1


async def test_graph_down_keeps_the_delivery_in_doubt_and_no_permission_fails_it(
    db: Database, store: ConversationStore, connector: FakeBotConnector
) -> None:
    await _personal(store, connector)
    graph = GraphChats(
        app_id=APP_ID, app_password="s", graph_url=connector.graph_url, login_url=connector.base_url
    )
    clock = FakeClock(TUESDAY_10_AMS)
    dispatcher = await _dispatcher(db, _messenger(store, graph=graph), clock)
    connector.fail_next(504, operation="send", deliver=True)
    await dispatcher.tick()
    connector.graph_failures.append(503)
    clock.advance(timedelta(minutes=10))
    assert (await dispatcher.tick()).deferred == 1
    async with db.session() as s:
        (row,) = (await s.scalars(select(Delivery))).all()
    assert row.last_error is not None and row.last_error.startswith("in_doubt:")
    connector.graph_enabled = False
    clock.set(row.next_attempt_at + timedelta(seconds=1))
    assert (await dispatcher.tick()).failed == 1
    assert len(connector.posted) == 1
    assert len(connector.graph_calls) == 2


async def test_without_graph_an_in_doubt_send_fails_rather_than_posting_twice(
    db: Database, store: ConversationStore, connector: FakeBotConnector
) -> None:
    await _personal(store, connector)
    clock = FakeClock(TUESDAY_10_AMS)
    dispatcher = await _dispatcher(db, _messenger(store), clock)
    connector.fail_next(504, operation="send", deliver=True)
    await dispatcher.tick()
    clock.advance(timedelta(minutes=10))
    second = await dispatcher.tick()
    assert second.failed == 1
    assert len(connector.posted) == 1
    async with db.session() as s:
        (row,) = (await s.scalars(select(Delivery))).all()
        (person,) = (await s.scalars(select(Person).where(Person.external_id == MANAGER))).all()
    assert row.status == DeliveryStatus.FAILED
    assert row.last_error is not None and row.last_error.startswith("in_doubt_unverified")
    # Not the person's fault: they stay reachable.
    assert person.reachable is True


async def test_a_throttled_send_is_retried_by_the_dispatcher_after_retry_after(
    db: Database, store: ConversationStore, connector: FakeBotConnector
) -> None:
    await _personal(store, connector)
    clock = FakeClock(TUESDAY_10_AMS)
    dispatcher = await _dispatcher(db, _messenger(store), clock)
    connector.fail_next(429, retry_after=300)
    assert (await dispatcher.tick()).deferred == 1
    async with db.session() as s:
        (row,) = (await s.scalars(select(Delivery))).all()
    assert row.next_attempt_at >= TUESDAY_10_AMS + timedelta(seconds=300)
    clock.set(row.next_attempt_at + timedelta(seconds=1))
    assert (await dispatcher.tick()).sent == 1
    assert len(connector.posted) == 1


def test_graph_is_used_only_with_an_app_secret() -> None:
    assert graph_from_settings(Settings(_env_file=None)) is None
    graph = graph_from_settings(
        Settings(
            _env_file=None,
            microsoft_app_id=APP_ID,
            microsoft_app_password="secret",
            microsoft_graph_url="http://127.0.0.1:9/graph",
        )
    )
    assert graph is not None
    assert graph.graph_url == "http://127.0.0.1:9/graph/"
    assert graph.login_url == "https://login.microsoftonline.com/"
    personal = Conversation(
        TENANT_ID, PERSONAL_ID, "personal", "https://x/", BOT_ID, aad_object_id=MANAGER
    )
    assert graph.chat_id(personal) == f"19:{MANAGER}_{APP_ID}@unq.gbl.spaces"
