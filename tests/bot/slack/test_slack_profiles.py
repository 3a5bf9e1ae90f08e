from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.edge.profile import Profile
from bot.slack.profiles import ProfileCache, ProfileLookupError, profile_from_user
from nudges.ports import FakeClock
from tests.fakes.slack_api import FakeSlackApi

ClientFor = Callable[[str], Awaitable[AsyncWebClient]]
WS = "T0NUDGE01"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))


@pytest.fixture
def cache(client_for: ClientFor, clock: FakeClock) -> ProfileCache:
    return ProfileCache(client_for, ttl_seconds=3600, clock=clock)


async def test_reads_zone_locale_and_admin_rights(
    cache: ProfileCache, slack_api: FakeSlackApi
) -> None:
    slack_api.add_user("U0ALICE", tz="Europe/Amsterdam", locale="nl-NL", is_admin=True)
    slack_api.add_user("U0BOB", tz="America/Los_Angeles", locale="en-US")
    slack_api.add_user("U0OWNER", is_owner=True)
    slack_api.add_user("U0PRIMARY", is_primary_owner=True)

    alice = await cache.get(WS, "U0ALICE")
    bob = await cache.get(WS, "U0BOB")

    assert alice is not None
    assert (alice.user_id, alice.timezone, alice.locale) == ("U0ALICE", "Europe/Amsterdam", "nl-NL")
    assert (alice.is_platform_admin, alice.deleted, alice.is_bot) == (True, False, False)
    assert bob is not None
    assert (bob.timezone, bob.locale, bob.is_platform_admin) == (
        "America/Los_Angeles",
        "en-US",
        False,
    )
    for owner in ("U0OWNER", "U0PRIMARY"):
        profile = await cache.get(WS, owner)
        assert profile is not None and profile.is_platform_admin
    assert slack_api.calls_to("users.info")[0].params == {
        "user": "U0ALICE",
        "include_locale": "1",
    }


async def test_cache_hit_does_not_call_slack_again(
    cache: ProfileCache, slack_api: FakeSlackApi, clock: FakeClock
) -> None:
    slack_api.add_user("U0ALICE", tz="Europe/Amsterdam")
    first = await cache.get(WS, "U0ALICE")
    clock.advance(timedelta(minutes=59))
    assert await cache.get(WS, "U0ALICE") == first
    assert len(slack_api.calls_to("users.info")) == 1


async def test_entries_expire_after_the_ttl(
    cache: ProfileCache, slack_api: FakeSlackApi, clock: FakeClock
) -> None:
    slack_api.add_user("U0ALICE", tz="Europe/Amsterdam")
    await cache.get(WS, "U0ALICE")
    slack_api.add_user("U0ALICE", tz="Asia/Tokyo")
    clock.advance(timedelta(hours=1, seconds=1))
    profile = await cache.get(WS, "U0ALICE")
    assert profile is not None and profile.timezone == "Asia/Tokyo"
    assert len(slack_api.calls_to("users.info")) == 2


async def test_cache_is_per_workspace(cache: ProfileCache, slack_api: FakeSlackApi) -> None:
    slack_api.add_user("U0ALICE")
    await cache.get("T1", "U0ALICE")
    await cache.get("T2", "U0ALICE")
    assert len(slack_api.calls_to("users.info")) == 2


async def test_deleted_user(cache: ProfileCache, slack_api: FakeSlackApi) -> None:
    slack_api.add_user("U0GONE", deleted=True, locale="")
    profile = await cache.get(WS, "U0GONE")
    assert profile is not None
    assert (profile.deleted, profile.timezone, profile.locale) == (True, None, None)


async def test_bot_user(cache: ProfileCache, slack_api: FakeSlackApi) -> None:
    slack_api.add_user("U0ROBOT", is_bot=True)
    profile = await cache.get(WS, "U0ROBOT")
    assert profile is not None and profile.is_bot


async def test_unknown_user_is_none_and_cached(
    cache: ProfileCache, slack_api: FakeSlackApi
) -> None:
    assert await cache.get(WS, "U0NOBODY") is None
    assert await cache.get(WS, "U0NOBODY") is None
    assert len(slack_api.calls_to("users.info")) == 1


async def test_failures_raise_and_are_not_cached(
    cache: ProfileCache, slack_api: FakeSlackApi
) -> None:
    slack_api.add_user("U0ALICE")
    slack_api.fail_next("users.info", "invalid_auth")
    with pytest.raises(ProfileLookupError) as caught:
        await cache.get(WS, "U0ALICE")
    assert caught.value.reason == "invalid_auth"
    assert await cache.get(WS, "U0ALICE") is not None


async def test_rate_limit_is_retried(cache: ProfileCache, slack_api: FakeSlackApi) -> None:
    slack_api.add_user("U0ALICE")
    slack_api.fail_next("users.info", retry_after=0)
    assert await cache.get(WS, "U0ALICE") is not None
    assert len(slack_api.calls_to("users.info")) == 2


async def test_size_is_bounded_least_recently_used_first(
    client_for: ClientFor, slack_api: FakeSlackApi, clock: FakeClock
) -> None:
    for user in ("U0A", "U0B", "U0C"):
        slack_api.add_user(user)
    cache = ProfileCache(client_for, clock=clock, max_entries=2)
    await cache.get(WS, "U0A")
    await cache.get(WS, "U0B")
    await cache.get(WS, "U0A")  # U0B is now the least recently used
    await cache.get(WS, "U0C")
    assert len(cache) == 2
    await cache.get(WS, "U0A")
    await cache.get(WS, "U0B")
    assert [c.params["user"] for c in slack_api.calls_to("users.info")] == [
        "U0A",
        "U0B",
        "U0C",
        "U0B",
    ]


async def test_forget_drops_an_entry(cache: ProfileCache, slack_api: FakeSlackApi) -> None:
    slack_api.add_user("U0ALICE")
    await cache.get(WS, "U0ALICE")
    cache.forget(WS, "U0ALICE")
    await cache.get(WS, "U0ALICE")
    assert len(slack_api.calls_to("users.info")) == 2


def test_profile_from_the_documented_users_info_sample() -> None:
    # platform-samples/slack/web_api/users.info.200.json (no locale: include_locale was not set)
    user = {
        "id": "W012A3CDE",
        "deleted": False,
        "is_admin": True,
        "is_bot": False,
        "is_owner": False,
        "is_primary_owner": False,
        "tz": "America/Los_Angeles",
        "tz_label": "Pacific Daylight Time",
        "tz_offset": -25200,
    }
    assert profile_from_user(user) == Profile(
        user_id="W012A3CDE",
        timezone="America/Los_Angeles",
        is_platform_admin=True,
    )
