"""A fresh sandbox starts with weeks of past, played by the real scheduler and click paths."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.dashboard.access import Passes
from bot.dashboard.site import Dashboard
from bot.sandbox import demo
from bot.sandbox.clock import SandboxClock
from bot.sandbox.edge import SandboxEdge
from bot.sandbox.history import HISTORY_WEEKS
from bot.server import create_web_app
from nudges.domain import DeliveryKind
from nudges.messages import Actions, Message
from nudges.store.commitments import Commitment
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace
from nudges.store.pulse import PulseParticipation, PulsePoll
from tests.bot.sandbox.conftest import START, Sandbox, sandbox_services


def _fixed_real_time() -> Any:
    """Real time as a fixed Monday that runs on from there, so every run plays the same weeks."""
    began = time.monotonic()
    return lambda: START + timedelta(seconds=time.monotonic() - began)


@pytest.fixture
async def seeded(db: Database) -> AsyncIterator[Sandbox]:
    clock = SandboxClock(movable=True, real=_fixed_real_time())
    services = sandbox_services(db, clock)
    edge = SandboxEdge(services, clock)
    app = create_web_app(db)
    edge.add_routes(app)
    Dashboard(db, clock, Passes(None), public_url="http://x", local_ok=True).add_routes(app)
    async with TestClient(TestServer(app)) as client:
        await edge.workspace()
        yield Sandbox(client, edge, services, clock)
    await edge.stop()


def _buttons(message: Message | None) -> tuple[str, ...]:
    if message is None:
        return ()
    return tuple(
        button.action_id
        for block in message.blocks
        if isinstance(block, Actions)
        for button in block.buttons
    )


async def _state(sb: Sandbox) -> dict[str, Any]:
    """What the past left behind, in rows the real code wrote and in every chat."""
    async with sb.services.db.session() as s:
        deliveries = (
            await s.execute(
                select(Delivery.kind, Delivery.status, Delivery.outcome, func.count())
                .group_by(Delivery.kind, Delivery.status, Delivery.outcome)
                .order_by(Delivery.kind, Delivery.status, Delivery.outcome)
            )
        ).all()
        polls = (
            await s.execute(
                select(PulsePoll.closed, func.count())
                .group_by(PulsePoll.closed)
                .order_by(PulsePoll.closed)
            )
        ).all()
        answered = await s.scalar(
            select(func.count())
            .select_from(PulseParticipation)
            .where(PulseParticipation.answered.is_(True))
        )
        commitments = (
            await s.execute(select(Commitment.state, Commitment.due_on).order_by(Commitment.id))
        ).all()
    # Each chat's shape: what arrived and which buttons it still offers. (Which nudge of a
    # kind the planner picks may follow the store's row ids, which PostgreSQL never reuses.)
    chats = {
        person: [(e.kind, _buttons(e.message)) for e in entries]
        for (_, person), entries in sorted(sb.edge.inbox.chats.items())
    }
    return {
        "deliveries": [tuple(row) for row in deliveries],
        "polls": [tuple(row) for row in polls],
        "answered": answered,
        "commitments": [tuple(row) for row in commitments],
        "chats": chats,
    }


async def test_the_demo_starts_with_weeks_of_answered_polls_and_handled_nudges(
    seeded: Sandbox,
) -> None:
    state = await _state(seeded)
    # The clock is back at (the test's) real time: the past happened before now.
    assert not seeded.clock.shifted
    async with seeded.services.db.session() as s:
        workspace = await s.scalar(select(Workspace).where(Workspace.external_id == "SANDBOX"))
        assert workspace is not None
        assert workspace.created_at <= START - timedelta(weeks=HISTORY_WEEKS) + timedelta(days=1)
        names = dict((await s.execute(select(Person.external_id, Person.display_name))).all())
    assert names == {p.id: p.name for p in demo.PEOPLE}
    outcomes = {(kind, outcome) for kind, status, outcome, _ in state["deliveries"]}
    for wanted in ("done", "snoozed", "skipped"):
        assert (DeliveryKind.NUDGE.value, wanted) in outcomes, state["deliveries"]
    assert (DeliveryKind.FOLLOWUP.value, "done") in outcomes
    assert ("done",) in {(c[0],) for c in state["commitments"]}
    closed = dict(state["polls"]).get(True, 0)
    assert closed >= 2 * 6, state["polls"]  # six weekly polls per team at least
    assert state["answered"] >= closed * 3
    # Every demo person has a chat with the bot's past messages in it.
    assert set(state["chats"]) == {p.id for p in demo.PEOPLE if p.role != "admin"}


async def test_the_dashboard_shows_trends_with_names_on_first_open(seeded: Sandbox) -> None:
    data = await (await seeded.client.get("/dashboard/data.json")).json()
    teams = {team["team"]: team for team in data["teams"]}
    assert set(teams) == {"Harbour", "Lighthouse"}
    for team in teams.values():
        # Every theme the pulse asks about has been asked at least twice: a trend, not a dot.
        assert len(team["trends"]) == 3, team
        for trend in team["trends"]:
            assert len(trend["points"]) >= 2, trend
        assert team["outcomes"]
    assert teams["Harbour"]["manager_names"] == ["Sam Okafor"]
    page = await (await seeded.client.get("/dashboard")).text()
    assert "No poll of this team has closed yet." not in page
    assert "Managers: Sam Okafor" in page and "sb-sam" not in page
    assert "Showing workspace Nudgebot sandbox (sandbox)." in page
    home = await (await seeded.client.get("/", params={"as": "sb-sam", "view": "home"})).text()
    assert 'id="home"' in home


async def test_reset_gives_the_same_start(seeded: Sandbox) -> None:
    before = await _state(seeded)
    response = await seeded.client.post(
        "/sandbox/reset", data={"as": "sb-admin"}, allow_redirects=False
    )
    assert response.status == 303
    after = await _state(seeded)
    for key in before:
        if key != "chats":
            assert after[key] == before[key], key
    for person, chat in before["chats"].items():
        assert after["chats"].get(person) == chat, person
    assert after == before
    assert not seeded.clock.shifted
    started: datetime = seeded.clock.now()
    assert abs(started - START) < timedelta(minutes=10)
