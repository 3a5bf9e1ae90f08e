"""Answer a pulse poll in the sandbox, change the answer, close the poll and read the digest."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from bot.sandbox import demo
from nudges.store.pulse import PulseAnswer, PulseParticipation, PulsePoll
from tests.bot.sandbox.conftest import Sandbox

HARBOUR = ("sb-lars", "sb-fenna", "sb-omar")


async def _page(sb: Sandbox, person: str, view: str = "chat") -> str:
    response = await sb.client.get("/", params={"as": person, "view": view})
    assert response.status == 200
    return await response.text()


async def _post(sb: Sandbox, path: str, **fields: str) -> None:
    response = await sb.client.post(path, data=fields, allow_redirects=False)
    assert response.status == 303, await response.text()


def _answer_values(html: str) -> list[str]:
    return re.findall(
        r'name="action_id" value="pulse.answer"><input type="hidden" name="value" value="([^"]+)"',
        html,
    )


async def _answer(sb: Sandbox, person: str, choice: int) -> None:
    html = await _page(sb, person)
    values = _answer_values(html)
    assert len(values) == 5, html
    await _post(
        sb,
        "/sandbox/action",
        **{"as": person, "action_id": "pulse.answer", "value": values[choice - 1]},
    )


async def test_a_poll_is_answered_changed_closed_and_shows_in_the_digest(sandbox: Sandbox) -> None:
    # Monday 09:00 → Friday 09:00: the Thursday 11:00 poll went out on the way.
    for _ in range(4):
        await _post(sandbox, "/sandbox/clock", **{"as": demo.ADMIN, "step": "plus_day"})
    assert len(_answer_values(await _page(sandbox, "sb-julia"))) == 5
    assert _answer_values(await _page(sandbox, "sb-sam")) == []

    await _answer(sandbox, "sb-lars", 2)
    await _answer(sandbox, "sb-lars", 5)  # changes the answer, not a second one
    for person in HARBOUR[1:]:
        await _answer(sandbox, person, 4)
    async with sandbox.services.db.session() as session:
        answers = await session.scalar(select(func.count()).select_from(PulseAnswer))
        answered = await session.scalar(
            select(func.count())
            .select_from(PulseParticipation)
            .where(PulseParticipation.answered.is_(True))
        )
        assert answers == answered == 3
        scores = sorted((await session.scalars(select(PulseAnswer.value))).all())
        assert scores == [4, 4, 5]

    await _post(sandbox, "/sandbox/clock", **{"as": demo.ADMIN, "step": "close_poll"})
    async with sandbox.services.db.session() as session:
        polls = (await session.scalars(select(PulsePoll))).all()
        assert polls and all(p.closed for p in polls)
    # Answer buttons are gone once the poll closed.
    assert _answer_values(await _page(sandbox, "sb-lars")) == []
    # Sam's Home carries the digest: Harbour's result, three answers reaching the threshold.
    home = await _page(sandbox, "sb-sam", "home")
    assert "How your team is doing" in home
    assert "3 of 4 answered" in home
    # Lighthouse had no answers: Ilse sees no score of theirs.
    assert "of 4 answered" not in await _page(sandbox, "sb-ilse", "home")


async def test_close_poll_with_none_open_says_so(sandbox: Sandbox) -> None:
    await _post(sandbox, "/sandbox/clock", **{"as": demo.ADMIN, "step": "close_poll"})
    html = await _page(sandbox, demo.ADMIN)
    assert "No pulse poll is open" in html
