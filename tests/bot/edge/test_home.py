from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.edge import EdgeCore, EdgeOptions
from bot.edge.home import Publish
from nudges.domain import Platform
from nudges.messages import Header
from nudges.ports import FakeClock
from nudges.services import Services


def _core(services: Services, debounce: float = 0.05) -> EdgeCore:
    options = EdgeOptions(
        command="/nudges", home_debounce=debounce, home_open_window=timedelta(hours=1)
    )
    return EdgeCore(services, Platform.SLACK, options=options)


async def test_the_home_page_is_built_for_the_person(services: Services) -> None:
    page = await _core(services).home("T1", "U1")
    assert isinstance(page.blocks[0], Header)
    # Commands are written the platform's way, and a non-admin sees no settings.
    assert "`/nudges team add`" in str(page)
    assert "Workspace settings" not in str(page)


async def test_a_home_never_opened_is_not_republished(services: Services) -> None:
    core = _core(services)
    published: list[tuple[str, str]] = []

    async def publish(ws: str, user: str) -> None:
        published.append((ws, user))

    assert not core.home_changed("T1", "U1", publish)
    await core.drain()
    assert published == []


async def test_a_burst_of_changes_republishes_an_open_home_once(services: Services) -> None:
    core = _core(services)
    published: list[tuple[str, str]] = []

    async def publish(ws: str, user: str) -> None:
        published.append((ws, user))

    core.home_opened("T1", "U1")
    for _ in range(5):
        assert core.home_changed("T1", "U1", publish)
    await core.drain()
    assert published == [("T1", "U1")]
    # A change after that publish gets one of its own.
    core.home_changed("T1", "U1", publish)
    await core.drain()
    assert published == [("T1", "U1"), ("T1", "U1")]


async def test_a_home_opened_long_ago_waits_for_its_next_opening(
    services: Services, clock: FakeClock
) -> None:
    core = _core(services)
    published: list[tuple[str, str]] = []

    async def publish(ws: str, user: str) -> None:
        published.append((ws, user))

    core.home_opened("T1", "U1")
    clock.set(clock.now() + timedelta(hours=2))
    assert not core.home_changed("T1", "U1", publish)
    await core.drain()
    assert published == []


async def test_a_direct_message_is_answered_once_per_cooldown(services: Services) -> None:
    core = _core(services)
    assert await core.should_answer_dm("T1", "U1")
    assert not await core.should_answer_dm("T1", "U1")
    assert "`/nudges help`" in await core.dm_reply("T1", "U1")


async def test_a_direct_message_is_answered_with_the_store_down(services: Services) -> None:
    core = _core(services)
    working = services.db.sessions
    services.db.sessions = None  # type: ignore[assignment]
    try:
        assert "`/nudges help`" in await core.dm_reply("T1", "U1")
    finally:
        services.db.sessions = working


async def test_the_dm_cooldown_holds_across_replicas(services: Services) -> None:
    # Two replicas of the edge on one store: a message to either is answered once.
    first, second = _core(services), _core(services)
    assert await first.should_answer_dm("T1", "U1")
    assert not await second.should_answer_dm("T1", "U1")
    assert await second.should_answer_dm("T1", "U2")


async def test_a_home_opened_on_one_replica_is_republished_once_by_another(
    services: Services,
) -> None:
    opened_on, changed_on = _core(services), _core(services)
    published: list[str] = []

    def publish_by(name: str) -> Publish:
        async def publish(ws: str, user: str) -> None:
            published.append(name)

        return publish

    opened_on.home_opened("T1", "U1")
    await opened_on.drain()
    # Changes through both replicas in one burst: the Home is published once, after it.
    for _ in range(3):
        changed_on.home_changed("T1", "U1", publish_by("second"))
        opened_on.home_changed("T1", "U1", publish_by("first"))
        await asyncio.sleep(0.01)
    await asyncio.gather(opened_on.drain(), changed_on.drain())
    assert len(published) == 1, published
