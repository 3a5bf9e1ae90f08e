"""The admins' dashboard: the same threshold as the digest, sign-in links, and no leak below it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.dashboard.access import Passes
from bot.dashboard.page import person_name, plain_mentions
from bot.dashboard.site import Dashboard
from nudges.domain import Dimension
from nudges.people import directory
from nudges.pulse.digest import digest_lines
from nudges.pulse.messages import score_text
from nudges.store.database import Database
from nudges.store.org import Person, Workspace
from tests.nudges.pulse.world import World, make_world, members

KEY = Fernet.generate_key().decode()


async def _world(db: Database) -> World:
    world = await make_world(
        db,
        teams={"MA": members(6, "A"), "MB": members(5, "B")},
        team_names={"MA": "Blue", "MB": "Tiny"},
    )
    await world.only_dimension(Dimension.CLARITY)
    # Round one, both teams at once: Blue with 5 answers (at the threshold), and Tiny, five
    # people who all answer, visible until the threshold rises above five.
    await _round(
        world,
        {"A1": 5, "A2": 4, "A3": 4, "A4": 3, "A5": 2, "B1": 1, "B2": 5}
        | {"B3": 2, "B4": 2, "B5": 5},
    )
    # Round two: Blue with 4 answers, below the threshold.
    await _round(world, {"A1": 1, "A2": 1, "A3": 1, "A4": 1}, team="Blue")
    await world.command("admins add <@UADMIN>")  # creates the admin used for sign-in
    return world


async def _round(world: World, values: dict[str, int], team: str = "") -> None:
    opened = await world.open_now(team)
    assert opened.polls, opened.skipped
    await world.tick()
    for user, value in values.items():
        assert (await world.click(user, value)).changed
    closes = max(poll.closes_at for poll in opened.polls)
    await world.run_until(closes + timedelta(minutes=1), step=timedelta(hours=12))


@pytest.fixture
async def site(db: Database) -> AsyncIterator[tuple[World, TestClient[Any, Any], Dashboard]]:
    world = await _world(db)
    dashboard = Dashboard(
        db, world.clock, Passes(KEY), public_url="https://nudgebot.example.com", local_ok=True
    )
    app = web.Application()
    dashboard.add_routes(app)
    async with TestClient(TestServer(app)) as client:
        yield world, client, dashboard


def _scores(value: Any) -> list[float]:
    """Find every score anywhere in a JSON value."""
    if isinstance(value, dict):
        found = [float(v) for k, v in value.items() if k == "score" and v is not None]
        return found + [s for v in value.values() for s in _scores(v)]
    if isinstance(value, list):
        return [s for v in value for s in _scores(v)]
    return []


async def test_only_polls_at_the_threshold_have_scores_anywhere(
    site: tuple[World, TestClient[Any, Any], Dashboard],
) -> None:
    world, client, _ = site
    data = await (await client.get("/dashboard/data.json")).json()
    assert data["threshold"] == 5
    teams = {team["team"]: team for team in data["teams"]}
    assert _scores(teams["Blue"]) == [pytest.approx(3.6)]
    assert [h["answered"] for h in teams["Blue"]["hidden_polls"]] == [4]
    (trend,) = teams["Blue"]["trends"]
    assert trend["dimension"] == "clarity"
    assert trend["hidden_polls"] == 1
    assert _scores(teams["Tiny"]) == [pytest.approx(3.0)]

    page = await (await client.get("/dashboard")).text()
    assert sorted(re.findall(r'data-score="([\d.]+)"', page)) == ["3.00", "3.60"]
    assert "4 answered, below the threshold of 5; no score shown." in page

    # A later rise of the threshold hides every poll below it, on every surface at once.
    await world.settings(anonymity_threshold=6)
    data = await (await client.get("/dashboard/data.json")).json()
    assert _scores(data) == []
    page = await (await client.get("/dashboard")).text()
    assert "data-score" not in page
    tiny = page[page.index('data-team="team:Tiny"') :]
    assert "5 answered, below the threshold of 6; no score shown." in tiny


async def test_the_dashboard_and_the_digest_show_the_same_score(
    site: tuple[World, TestClient[Any, Any], Dashboard],
) -> None:
    world, client, _ = site
    data = await (await client.get("/dashboard/data.json")).json()
    (blue,) = [t for t in data["teams"] if t["team"] == "Blue"]
    point = blue["trends"][0]["points"][-1]
    async with world.db.session() as s:
        workspace = await s.get(Workspace, world.workspace_id)
        manager = await s.get(Person, world.ids["MA"])
        assert workspace and manager
        from nudges.content.catalogue import default_catalogue

        lines = await digest_lines(
            s, workspace, manager, "en", world.clock.now(), default_catalogue(), include_small=False
        )
    assert lines is not None
    assert any(score_text("en", point["score"]) in line for line in lines)


async def test_nudge_outcomes_and_languages(
    site: tuple[World, TestClient[Any, Any], Dashboard],
) -> None:
    _, client, _ = site
    english = await (await client.get("/dashboard")).text()
    dutch = await (await client.get("/dashboard?lang=nl")).text()
    assert "<h1>Nudgebot · Team results</h1>" in english
    assert "<h1>Nudgebot · Teamresultaten</h1>" in dutch
    assert 'lang="nl"' in dutch
    assert "Team Blue" in english and "Team Tiny" in english


async def test_a_request_that_is_not_local_needs_a_sign_in(db: Database) -> None:
    world = await _world(db)
    dashboard = Dashboard(db, world.clock, Passes(KEY), public_url="http://x", local_ok=False)
    app = web.Application()
    dashboard.add_routes(app)
    async with TestClient(TestServer(app)) as client:
        refused = await client.get("/dashboard")
        assert refused.status == 401
        assert "Sign in with the link" in await refused.text()
        assert (await client.get("/dashboard/data.json")).status == 401

        forged = await client.get("/dashboard/signin?token=not-a-token", allow_redirects=False)
        assert forged.status == 403
        async with db.session() as s:
            ws = await s.scalar(select(Workspace))
            assert ws is not None
        link = dashboard.link_for(ws.id, "UADMIN")
        assert link.startswith("http://x/dashboard/signin?token=")
        signed_in = await client.get(link.removeprefix("http://x"))
        assert signed_in.status == 200
        assert "Team Blue" in await signed_in.text()
        other = await client.get("/dashboard?workspace=999")
        assert other.status == 404

        member_link = dashboard.link_for(ws.id, "A1")
        client.session.cookie_jar.clear()
        not_admin = await client.get(member_link.removeprefix("http://x"))
        assert not_admin.status == 403


async def test_a_forwarded_request_is_not_local(
    site: tuple[World, TestClient[Any, Any], Dashboard],
) -> None:
    _, client, _ = site
    proxied = await client.get("/dashboard", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status == 401


async def test_a_link_sealed_with_another_key_is_refused(
    site: tuple[World, TestClient[Any, Any], Dashboard],
) -> None:
    _, client, _ = site
    other = Passes(Fernet.generate_key().decode()).issue(1, "UADMIN", "link")
    assert (await client.get(f"/dashboard/signin?token={other}")).status == 403
    session_as_link = Passes(KEY).issue(1, "UADMIN", "session")
    assert (await client.get(f"/dashboard/signin?token={session_as_link}")).status == 403


async def _profile(world: World, external_id: str, name: str) -> None:
    """File a profile the way the edge does when the platform describes someone."""
    async with world.db.session() as s:
        workspace = await s.get(Workspace, world.workspace_id)
        assert workspace is not None
        await directory.record_profile(
            s, workspace, external_id, timezone=None, locale=None, display_name=name
        )
        await s.commit()


async def test_people_show_by_the_name_their_platform_shows_kept_fresh(
    site: tuple[World, TestClient[Any, Any], Dashboard],
) -> None:
    world, client, _ = site
    page = await (await client.get("/dashboard")).text()
    # Without a profile read yet, the platform id is all there is.
    assert "Managers: MA" in page
    await _profile(world, "MA", "  Mia   Jansen ")
    page = await (await client.get("/dashboard")).text()
    assert "Managers: Mia Jansen" in page and "Managers: MA<" not in page
    data = await (await client.get("/dashboard/data.json")).json()
    (blue,) = [t for t in data["teams"] if t["team"] == "Blue"]
    assert blue["managers"] == ["MA"] and blue["manager_names"] == ["Mia Jansen"]
    # A rename on the platform shows at the next profile read.
    await _profile(world, "MA", "Mia de Vries")
    assert "Managers: Mia de Vries" in await (await client.get("/dashboard?lang=en")).text()
    assert "Leidinggevenden: Mia de Vries" in await (await client.get("/dashboard?lang=nl")).text()


async def test_the_page_says_which_workspace_it_shows(
    site: tuple[World, TestClient[Any, Any], Dashboard],
) -> None:
    world, client, _ = site
    async with world.db.session() as s:
        workspace = await s.get(Workspace, world.workspace_id)
        assert workspace is not None
        label = f"{workspace.external_id} ({workspace.platform})"
        platform = workspace.platform
    assert f"Showing workspace {label}." in await (await client.get("/dashboard")).text()
    async with world.db.session() as s:
        workspace = await s.get(Workspace, world.workspace_id)
        assert workspace is not None
        workspace.name = "Acme & Co"
        await s.commit()
    named = await (await client.get("/dashboard?lang=nl")).text()
    assert f"Je ziet werkruimte Acme &amp; Co ({platform})." in named
    data = await (await client.get("/dashboard/data.json")).json()
    assert data["workspace"]["name"] == "Acme & Co"


def test_someone_erased_shows_as_erased_in_both_languages() -> None:
    names = {"U1": "Anna de Vries", "U2": None}
    assert person_name("en", "U1", names) == "Anna de Vries"
    assert person_name("en", "U2", names) == "U2"
    assert person_name("en", "U3", names) == "erased"
    assert person_name("nl", "U3", names) == "gewist"
    text = "<@U1> is next, then <@U3>"
    assert plain_mentions(text, "nl", names) == "@Anna de Vries is next, then @gewist"
