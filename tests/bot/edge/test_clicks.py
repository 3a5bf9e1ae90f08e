from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client import REGISTRY
from sqlalchemy import exc as sa_exc

from bot.edge import Click, EdgeCore, EdgeOptions, Profile
from nudges.domain import Platform
from nudges.messages import Action
from nudges.services import Services
from tests.bot.edge.profiles import TableProfiles


def _core(services: Services) -> EdgeCore:
    profiles = TableProfiles({"U1": Profile("U1", locale="nl-NL")})
    return EdgeCore(services, Platform.TEAMS, profiles=profiles, options=EdgeOptions())


def _click(at: float | None, value: str = "999") -> Click:
    return Click("T1", "U1", Action.NUDGE_DONE, value, message_key="conv:1", clicked_at=at)


def _count(outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "nudgebot_clicks_total", {"platform": "teams", "outcome": outcome}
    )
    return value or 0.0


async def test_a_click_older_than_one_applied_to_the_message_is_dropped(
    services: Services,
) -> None:
    core = _core(services)
    superseded = _count("superseded")
    # The delivery does not exist, so the core answers with a notice: applied all the same.
    first = await core.apply_click(_click(20.0))
    assert first is not None and first.notice is not None
    assert await core.apply_click(_click(19.0)) is None
    assert _count("superseded") == superseded + 1
    assert await core.apply_click(_click(21.0)) is not None
    # Another message of the same person is ordered on its own.
    other = Click("T1", "U1", Action.NUDGE_DONE, "999", message_key="conv:2", clicked_at=1.0)
    assert await core.apply_click(other) is not None


async def test_a_button_that_is_not_ours_is_ignored(services: Services) -> None:
    click = Click("T1", "U1", "someone_elses_button", "x", clicked_at=1.0)
    assert await _core(services).apply_click(click) is None


async def test_a_click_with_the_store_down_gets_try_again_in_the_clickers_language(
    services: Services,
) -> None:
    core = _core(services)
    await core.know("T1", "U1")
    failed = _count("failed")
    working = services.db.sessions
    services.db.sessions = None  # type: ignore[assignment]
    try:
        result = await core.apply_click(_click(5.0))
    finally:
        services.db.sessions = working
    # Not a transient outage (a bug in the wiring), so the general line: still visible.
    assert result is not None and result.notice is not None
    assert "over een minuut" in result.notice
    assert _count("failed") == failed + 1
    # The failed click was not applied: the same click again is not dropped.
    assert await core.apply_click(_click(5.0)) is not None


async def test_a_form_that_fails_comes_back_as_a_notice(services: Services) -> None:
    core = _core(services)
    working = services.db.sessions
    services.db.sessions = None  # type: ignore[assignment]
    try:
        result = await core.submit_form("T1", "U1", "note_commitment", "1", {})
    finally:
        services.db.sessions = working
    assert result.notice is not None
    assert not result.changed


class _FlakySessions:
    """Sessions that fail to connect the first ``failures`` times, like a database restarting."""

    def __init__(self, working: Any, failures: int) -> None:
        self.working = working
        self.failures = failures

    def __call__(self) -> Any:
        if self.failures > 0:
            self.failures -= 1
            raise sa_exc.OperationalError("connect", {}, ConnectionRefusedError(111, "refused"))
        return self.working()


async def test_a_click_that_meets_a_passing_outage_is_tried_again(services: Services) -> None:
    core = _core(services)
    await core.know("T1", "U1")
    working = services.db.sessions
    services.db.sessions = _FlakySessions(working, failures=1)  # type: ignore[assignment]
    try:
        result = await core.apply_click(_click(7.0))
    finally:
        services.db.sessions = working
    # The delivery does not exist: the core's own notice, not the try-again one.
    assert result is not None and result.notice is not None
    assert "probeer het zo" not in result.notice


async def test_a_click_that_keeps_failing_says_try_again(services: Services) -> None:
    core = _core(services)
    await core.know("T1", "U1")
    working = services.db.sessions
    services.db.sessions = _FlakySessions(working, failures=10)  # type: ignore[assignment]
    try:
        result = await core.apply_click(_click(8.0))
    finally:
        services.db.sessions = working
    assert result is not None and result.notice is not None
    assert "probeer het zo nog eens" in result.notice


async def test_clicks_wait_for_a_burst_to_be_acknowledged_and_only_the_newest_is_applied(
    services: Services,
) -> None:
    core = _core(services)
    superseded = _count("superseded")
    core.ack_first.begin()  # a request of the burst still waits for its acknowledgement
    older = asyncio.ensure_future(core.apply_click(_click(30.0)))
    newer = asyncio.ensure_future(core.apply_click(_click(31.0)))
    await asyncio.sleep(0.05)
    assert not older.done() and not newer.done()
    core.ack_first.end()
    # The person's last click is the one applied; the older one is dropped unapplied.
    assert await older is None
    applied = await newer
    assert applied is not None and applied.notice is not None
    assert _count("superseded") == superseded + 1
