"""Drive the sandbox page over HTTP the way a person in a browser would."""

from __future__ import annotations

import base64
import json
import re

from sqlalchemy import select

from bot.sandbox import demo
from nudges.domain import DeliveryKind
from nudges.store.commitments import Commitment
from nudges.store.deliveries import Delivery
from tests.bot.sandbox.conftest import Sandbox


async def _page(sb: Sandbox, person: str, view: str = "chat") -> str:
    response = await sb.client.get("/", params={"as": person, "view": view})
    assert response.status == 200
    return await response.text()


async def _post(sb: Sandbox, path: str, **fields: str) -> None:
    response = await sb.client.post(path, data=fields, allow_redirects=False)
    assert response.status == 303, await response.text()


async def test_the_page_lists_the_demo_people_and_an_empty_chat(sandbox: Sandbox) -> None:
    html = await _page(sandbox, demo.ADMIN)
    for person in demo.PEOPLE:
        assert person.name in html
    assert 'id="empty-chat"' in html
    assert "drives the whole service" in html


async def test_a_command_gets_the_real_reply(sandbox: Sandbox) -> None:
    await _post(sandbox, "/sandbox/command", **{"as": demo.ADMIN, "text": "/nudges status"})
    html = await _page(sandbox, demo.ADMIN)
    assert "/nudges status" in html
    assert 'data-kind="reply"' in html


async def test_tuesday_brings_each_manager_a_nudge_and_done_closes_it(sandbox: Sandbox) -> None:
    await _post(sandbox, "/sandbox/clock", **{"as": demo.ADMIN, "step": "next_tuesday"})
    html = await _page(sandbox, "sb-sam")
    assert 'data-action="nudge.done"' in html
    assert "Lars Hoekstra" in html or "Fenna" in html or "Omar" in html or "Julia" in html
    value = re.search(r'name="value" value="(\d+)"', html)
    assert value is not None
    await _post(
        sandbox,
        "/sandbox/action",
        **{"as": "sb-sam", "action_id": "nudge.done", "value": value.group(1)},
    )
    html = await _page(sandbox, "sb-sam")
    assert "✅" in html
    async with sandbox.services.db.session() as session:
        delivery = await session.get(Delivery, int(value.group(1)))
        assert delivery is not None and delivery.outcome == "done"
    # The admin has no reports and gets no nudge.
    assert 'data-action="nudge.done"' not in await _page(sandbox, demo.ADMIN)


async def test_a_commitment_comes_back_as_a_follow_up_on_its_day(sandbox: Sandbox) -> None:
    await _post(sandbox, "/sandbox/clock", **{"as": demo.ADMIN, "step": "next_tuesday"})
    html = await _page(sandbox, "sb-ilse")
    value = re.search(r'name="value" value="(\d+)"', html)
    assert value is not None
    await _post(
        sandbox,
        "/sandbox/action",
        **{"as": "sb-ilse", "action_id": "nudge.note_commitment", "value": value.group(1)},
    )
    html = await _page(sandbox, "sb-ilse")
    assert 'id="open-form"' in html
    due = sandbox.clock.now().date().fromordinal(sandbox.clock.now().date().toordinal() + 1)
    await _post(
        sandbox,
        "/sandbox/form",
        **{
            "as": "sb-ilse",
            "callback_id": "form.note_commitment",
            "private_metadata": value.group(1),
            "commitment_text": "Ask Mei about the release <b>plan</b>",
            "commitment_due": due.isoformat(),
        },
    )
    html = await _page(sandbox, "sb-ilse")
    assert 'id="open-form"' not in html
    async with sandbox.services.db.session() as session:
        commitment = await session.scalar(select(Commitment))
        assert commitment is not None and commitment.due_on == due
    await _post(sandbox, "/sandbox/clock", **{"as": demo.ADMIN, "step": "plus_day"})
    html = await _page(sandbox, "sb-ilse")
    assert 'data-action="followup.done"' in html
    assert "&lt;b&gt;plan&lt;/b&gt;" in html and "<b>plan</b>" not in html
    async with sandbox.services.db.session() as session:
        kinds = (await session.scalars(select(Delivery.kind))).all()
    assert DeliveryKind.FOLLOWUP.value in kinds


async def test_snooze_brings_the_nudge_back_and_not_relevant_closes_it(sandbox: Sandbox) -> None:
    await _post(sandbox, "/sandbox/clock", **{"as": demo.ADMIN, "step": "next_tuesday"})
    values = {}
    for manager in ("sb-sam", "sb-ilse"):
        found = re.search(r'name="value" value="(\d+)"', await _page(sandbox, manager))
        assert found is not None
        values[manager] = found.group(1)
    await _post(
        sandbox,
        "/sandbox/action",
        **{"as": "sb-sam", "action_id": "nudge.snooze_tomorrow", "value": values["sb-sam"]},
    )
    await _post(
        sandbox,
        "/sandbox/action",
        **{"as": "sb-ilse", "action_id": "nudge.not_relevant", "value": values["sb-ilse"]},
    )
    assert "⏰" in await _page(sandbox, "sb-sam")
    assert "🙅" in await _page(sandbox, "sb-ilse")
    # A day later the snoozed nudge comes back as a new message; the other stays closed.
    await _post(sandbox, "/sandbox/clock", **{"as": demo.ADMIN, "step": "plus_day"})
    sam = await _page(sandbox, "sb-sam")
    assert len(re.findall(r'data-action="nudge.done"', sam)) == 2
    assert 'data-action="nudge.done"' not in await _page(sandbox, "sb-ilse")
    # Another manager's button clicked by Sam is refused, and changes nothing.
    await _post(
        sandbox,
        "/sandbox/action",
        **{"as": "sb-sam", "action_id": "nudge.done", "value": values["sb-ilse"]},
    )
    async with sandbox.services.db.session() as session:
        ilse = await session.get(Delivery, int(values["sb-ilse"]))
        assert ilse is not None and ilse.outcome == "not_relevant"


async def test_me_export_puts_the_file_in_the_persons_own_chat(sandbox: Sandbox) -> None:
    await _post(sandbox, "/sandbox/command", **{"as": "sb-lars", "text": "/nudges me export"})
    html = await _page(sandbox, "sb-lars")
    link = r'data-kind="file".*?download="([^"]+)" href="data:application/json;base64,([^"]+)"'
    found = re.search(link, html, re.S)
    assert found is not None, html[-2000:]
    assert found.group(1).endswith(".json")
    export = json.loads(base64.b64decode(found.group(2)))
    assert "sb-lars" in json.dumps(export)
    assert "fields" in export
    # Only in Lars's chat, not in anyone else's.
    assert 'data-kind="file"' not in await _page(sandbox, "sb-sam")
