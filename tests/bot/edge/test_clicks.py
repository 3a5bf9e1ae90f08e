from __future__ import annotations

from prometheus_client import REGISTRY

from bot.edge import Click, EdgeCore, EdgeOptions, Profile
from nudges.actions import Action
from nudges.domain import Platform
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
