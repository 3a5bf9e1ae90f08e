"""Break the real `nudgebot serve` mid-dispatch as an operator would, then count what arrived.

Each test seeds a backlog of due explicit messages, runs the service against the fake Slack,
breaks something (a signal, the database, Slack itself) and then checks from outside: every
recipient received exactly one message and the store holds nothing still pending or sending.
"""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import make_url

from bot.slack.blocks import METADATA_EVENT_TYPE
from nudges.store.database import Database
from tests.conftest import BACKEND, PG_URL
from tests.fakes.slack_api import FakeSlackApi, Faults
from tests.fault.harness import (
    TEAM,
    TOKEN,
    Service,
    Tally,
    TcpProxy,
    delivery_ids,
    seed_backlog,
    settle,
    wait_for,
)
from tests.fault.harness import start_service as start_with

# Short waits, so the breakages play out in seconds; the logic is the same at any length.
SHORT_WAITS = {"RETRY_BACKOFF_SECONDS": "2", "DELIVERY_LEASE_SECONDS": "6"}

# Small enough to stay fast, large enough that a kill lands in the middle of sending.
BACKLOG = 80
KILL_AT = 25
# An upper bound only: a passing test returns as soon as everything settled. Generous, because
# the shared 2-core machine was seen at a load of 10, where the service sends a few a second.
SETTLE = 90.0
# "Finishes the message in hand, hands the rest back and exits within a few seconds"; with
# room for a machine busy with other work (5-7 s were seen on PostgreSQL under load).
STOP_LIMIT = 10.0


async def start_service(
    database_url: str,
    api_url: str,
    workdir: Path,
    *,
    name: str = "service",
    extra_env: dict[str, str] | None = None,
) -> Service:
    """Start the real service with this module's short retry and lease waits."""
    env = {**SHORT_WAITS, **(extra_env or {})}
    return await start_with(database_url, api_url, workdir, name=name, extra_env=env)


def _check(tally: Tally) -> None:
    assert tally.nothing == 0, f"lost messages: {tally}"
    assert tally.duplicates == 0, f"duplicate messages: {tally}"
    assert tally.unsettled == 0, f"left unsettled: {tally}"


async def _stop_within(service: Service, sig: signal.Signals, limit: float) -> None:
    """Send ``sig`` and check the process is gone within ``limit`` seconds, saying how long."""
    started = time.monotonic()
    service.signal(sig)
    code = await service.wait(30.0)
    took = time.monotonic() - started
    assert code is not None, f"{sig.name} did not stop the service within 30 s"
    assert took <= limit, f"{sig.name} took {took:.1f} s to stop the service (limit {limit:g} s)"


async def _posts_reach(api: FakeSlackApi, count: int, limit: float = 40.0) -> None:
    reached = await wait_for(lambda: api.counters.posts >= count, limit, every=0.02)
    assert reached, f"only {api.counters.posts} posts arrived in {limit} s"


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
async def test_a_killed_service_restarted_sends_each_message_once(
    db: Database, database_url: str, tmp_path: Path, sig: signal.Signals
) -> None:
    users = (await seed_backlog(database_url, BACKLOG))[TEAM]
    async with FakeSlackApi(latency=0.005) as api:
        service = await start_service(database_url, api.base_url, tmp_path, name="first")
        try:
            await _posts_reach(api, KILL_AT)
            await _stop_within(service, sig, STOP_LIMIT)
            again = await start_service(database_url, api.base_url, tmp_path, name="restarted")
            try:
                tally = await settle(database_url, users, lambda: api.counters.by_recipient, SETTLE)
            finally:
                await again.stop()
        finally:
            await service.stop()
    _check(tally)


@pytest.mark.postgres_only
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
async def test_a_standby_finishes_what_the_killed_active_process_began(
    db: Database, database_url: str, tmp_path: Path, sig: signal.Signals
) -> None:
    users = (await seed_backlog(database_url, BACKLOG))[TEAM]
    async with FakeSlackApi(latency=0.005) as api:
        one = await start_service(database_url, api.base_url, tmp_path, name="one")
        try:
            two = await start_service(database_url, api.base_url, tmp_path, name="two")
        except BaseException:
            await one.stop()
            raise
        try:
            await _posts_reach(api, KILL_AT)
            active = [s for s in (one, two) if "now the active scheduler" in s.log()]
            assert len(active) == 1, "expected exactly one active scheduler"
            (standby,) = [s for s in (one, two) if s is not active[0]]
            await _stop_within(active[0], sig, STOP_LIMIT)
            tally = await settle(database_url, users, lambda: api.counters.by_recipient, SETTLE)
            assert standby.running
        finally:
            await one.stop()
            await two.stop()
    _check(tally)


@pytest.mark.postgres_only
async def test_the_database_gone_for_a_while_loses_and_doubles_nothing(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    users = (await seed_backlog(database_url, BACKLOG))[TEAM]
    target = make_url(PG_URL)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.start()
    async with FakeSlackApi(latency=0.005) as api:
        service = await start_service(proxy.url_for(database_url), api.base_url, tmp_path)
        try:
            await _posts_reach(api, KILL_AT)
            await proxy.stop()
            await asyncio.sleep(8)
            await proxy.start()
            tally = await settle(database_url, users, lambda: api.counters.by_recipient, SETTLE)
            assert service.running, "the service died while the database was away"
        finally:
            await service.stop()
            await proxy.stop()
    _check(tally)


async def _post_as_an_earlier_attempt(api: FakeSlackApi, user: str, delivery_id: int) -> None:
    """Post what an earlier worker's attempt would have left in the DM, delivery id and all."""
    client = AsyncWebClient(token=TOKEN, base_url=api.base_url)
    opened = await client.conversations_open(users=user)
    await client.chat_postMessage(
        channel=opened["channel"]["id"],
        text="an earlier attempt",
        metadata={"event_type": METADATA_EVENT_TYPE, "event_payload": {"delivery_id": delivery_id}},
    )


async def test_a_backlog_older_than_the_claim_timeout_is_sent_once_not_failed(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    # Rows a worker claimed eleven minutes ago (past the ten-minute claim timeout) and died
    # with: for half of them its post had reached Slack, for the other half it had not.
    users = (
        await seed_backlog(database_url, 40, status="sending", claimed_ago=timedelta(minutes=11))
    )[TEAM]
    async with FakeSlackApi(latency=0.005) as api:
        ids = await delivery_ids(database_url)
        for user in users[::2]:
            await _post_as_an_earlier_attempt(api, user, ids[user])
        service = await start_service(database_url, api.base_url, tmp_path)
        try:
            tally = await settle(database_url, users, lambda: api.counters.by_recipient, SETTLE)
        finally:
            await service.stop()
    _check(tally)
    assert tally.statuses.get("sent") == len(users), tally


async def test_a_backlog_that_takes_longer_than_a_claim_lasts_is_sent_once(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    # The operator's ceiling is 3 messages a second here, so 36 take 12 s: twice a claim's
    # lease (6 s in these tests); the claim must be renewed, not lapse and be sent again.
    users = (await seed_backlog(database_url, 36))[TEAM]
    async with FakeSlackApi(latency=0.005, rate=4, burst=1) as api:
        service = await start_service(
            database_url, api.base_url, tmp_path, extra_env={"SEND_RATE_PER_WORKSPACE": "3"}
        )
        try:
            tally = await settle(database_url, users, lambda: api.counters.by_recipient, SETTLE)
        finally:
            await service.stop()
    _check(tally)


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param({"storm": True}, id="429-storm"),
        pytest.param({"server_error": 0.15, "drop": 0.05}, id="5xx-and-drops"),
        pytest.param({"lost_answer": 0.1, "hang": 0.05, "hang_seconds": 2.0}, id="lost-answers"),
    ],
)
async def test_a_misbehaving_slack_still_gets_each_message_once(
    db: Database, database_url: str, tmp_path: Path, faults: dict[str, object]
) -> None:
    users = (await seed_backlog(database_url, 40))[TEAM]
    async with FakeSlackApi(latency=0.005, rate=20, burst=3, seed=8) as api:
        api.faults.update(faults)
        service = await start_service(database_url, api.base_url, tmp_path)
        try:
            # Misbehave for a while, then recover: what failed meanwhile must still arrive once.
            await wait_for(lambda: api.counters.requests["chat.postMessage"] >= 15, 30, every=0.05)
            await asyncio.sleep(2)
            api.faults = Faults()
            tally = await settle(database_url, users, lambda: api.counters.by_recipient, SETTLE)
        finally:
            await service.stop()
    _check(tally)


@pytest.mark.skipif(BACKEND != "sqlite", reason="the per-workspace pacing check needs one run")
async def test_the_fake_rate_limit_answers_429_with_retry_after() -> None:
    async with FakeSlackApi(rate=5, burst=2) as api:
        client = AsyncWebClient(token=TOKEN, base_url=api.base_url, retry_handlers=[])
        answers = []
        for _ in range(4):
            try:
                await client.chat_postMessage(channel="U0PACED01", text="hi")
                answers.append("ok")
            except Exception as exc:  # slack_sdk raises SlackApiError for a 429
                response = getattr(exc, "response", None)
                answers.append(f"{response.status_code} {response.headers.get('retry-after')}")
        assert answers[:2] == ["ok", "ok"]
        assert "429 1" in answers[2:]
        assert api.counters.ratelimited >= 1
        assert api.received("U0PACED01") == answers.count("ok")
