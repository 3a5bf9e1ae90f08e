"""Bad requests to the sandbox get one clear line and a 4xx, never a 500, and change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.sandbox import demo
from nudges.store.deliveries import Delivery
from nudges.store.org import Person
from tests.bot.sandbox.conftest import Sandbox


async def _error(sb: Sandbox, path: str, status: int = 400, **fields: str) -> str:
    response = await sb.client.post(path, data=fields, allow_redirects=False)
    text = await response.text()
    assert response.status == status, text
    assert 'id="error"' in text
    assert "Traceback" not in text
    return text


@pytest.mark.parametrize(
    ("path", "fields", "expected"),
    [
        ("/sandbox/command", {"text": "/nudges help"}, "The request has no as"),
        ("/sandbox/command", {"as": "sb-nobody", "text": "x"}, "There is no sb-nobody"),
        ("/sandbox/command", {"as": demo.ADMIN, "text": "   "}, "The request has no text"),
        ("/sandbox/command", {"as": demo.ADMIN, "text": "x" * 2001}, "too long (2001"),
        ("/sandbox/action", {"as": demo.ADMIN, "value": "1"}, "has no action_id"),
        ("/sandbox/clock", {"as": demo.ADMIN, "step": "back"}, "cannot move by back"),
        ("/sandbox/language", {"as": demo.ADMIN, "language": "fr"}, "not fr"),
        ("/sandbox/form", {"as": demo.ADMIN, "callback_id": "x", "private_metadata": "1"}, ""),
    ],
)
async def test_bad_input_gets_one_clear_line(
    sandbox: Sandbox, path: str, fields: dict[str, str], expected: str
) -> None:
    text = await _error(sandbox, path, **fields)
    assert expected in text


async def test_a_body_that_is_not_form_data_is_a_clear_error(sandbox: Sandbox) -> None:
    response = await sandbox.client.post(
        "/sandbox/command",
        data=b"as=sb-admin&text=%ff%fe\xff",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    assert response.status in (303, 400), await response.text()
    response = await sandbox.client.post(
        "/sandbox/command",
        data=b"--x\r\nbroken",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert response.status == 400
    assert "Traceback" not in await response.text()


async def test_an_unknown_person_in_the_address_is_a_clear_error(sandbox: Sandbox) -> None:
    response = await sandbox.client.get("/", params={"as": "<script>alert(1)</script>"})
    text = await response.text()
    assert response.status == 400
    assert "<script>alert" not in text
    assert "&lt;script&gt;" in text


async def test_unknown_paths_and_methods_are_not_500(sandbox: Sandbox) -> None:
    response = await sandbox.client.get("/sandbox/nothing")
    assert response.status == 404
    assert "Nothing here" in await response.text()
    response = await sandbox.client.get("/sandbox/command")
    assert response.status == 405


async def test_a_forged_click_changes_nothing(sandbox: Sandbox) -> None:
    # A button value that names no delivery, another person's delivery, or garbage.
    for value in ("999999", "abc", "1|2|3"):
        response = await sandbox.client.post(
            "/sandbox/action",
            data={"as": "sb-sam", "action_id": "nudge.done", "value": value},
            allow_redirects=False,
        )
        assert response.status == 303
    for action_id in ("nudge.explode", "pulse.answer"):
        response = await sandbox.client.post(
            "/sandbox/action",
            data={"as": "sb-sam", "action_id": action_id, "value": "1:x:9"},
            allow_redirects=False,
        )
        assert response.status == 303
    async with sandbox.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0
    page = await (await sandbox.client.get("/", params={"as": "sb-sam"})).text()
    assert 'data-kind="reply"' in page


async def test_a_request_from_another_site_is_refused(sandbox: Sandbox) -> None:
    response = await sandbox.client.post(
        "/sandbox/reset",
        data={"as": demo.ADMIN},
        headers={"Origin": "http://evil.example"},
        allow_redirects=False,
    )
    assert response.status == 403
    assert "another site" in await response.text()


async def test_a_bad_form_keeps_what_was_typed_and_names_the_field(sandbox: Sandbox) -> None:
    await sandbox.client.post(
        "/sandbox/clock", data={"as": demo.ADMIN, "step": "next_tuesday"}, allow_redirects=False
    )
    async with sandbox.services.db.session() as session:
        sam = await session.scalar(select(Person).where(Person.external_id == "sb-sam"))
        assert sam is not None
        nudge = await session.scalar(select(Delivery).where(Delivery.recipient_id == sam.id))
        assert nudge is not None
    await sandbox.client.post(
        "/sandbox/action",
        data={"as": "sb-sam", "action_id": "nudge.note_commitment", "value": str(nudge.id)},
    )
    fields = {
        "as": "sb-sam",
        "callback_id": "form.note_commitment",
        "private_metadata": str(nudge.id),
        "commitment_text": "Lunch with <i>Lars</i>",
        "commitment_due": "2001-01-01",
    }
    response = await sandbox.client.post("/sandbox/form", data=fields, allow_redirects=False)
    assert response.status == 303
    page = await (await sandbox.client.get("/", params={"as": "sb-sam"})).text()
    assert 'id="open-form"' in page and 'class="error"' in page
    assert "Lunch with &lt;i&gt;Lars&lt;/i&gt;" in page
    fields["commitment_due"] = "not a date"
    response = await sandbox.client.post("/sandbox/form", data=fields, allow_redirects=False)
    assert response.status == 303
    fields["cancel"] = "1"
    await sandbox.client.post("/sandbox/form", data=fields, allow_redirects=False)
    page = await (await sandbox.client.get("/", params={"as": "sb-sam"})).text()
    assert 'id="open-form"' not in page


async def test_reset_brings_the_demo_back_and_dutch_stays_switchable(sandbox: Sandbox) -> None:
    await sandbox.client.post(
        "/sandbox/clock", data={"as": demo.ADMIN, "step": "next_tuesday"}, allow_redirects=False
    )
    await sandbox.client.post(
        "/sandbox/language", data={"as": demo.ADMIN, "language": "nl"}, allow_redirects=False
    )
    await sandbox.client.post(
        "/sandbox/command", data={"as": "sb-sam", "text": "/nudges help"}, allow_redirects=False
    )
    page = await (await sandbox.client.get("/", params={"as": "sb-sam"})).text()
    # The page and new replies speak Dutch; messages already delivered stay as they were sent.
    assert 'lang="nl"' in page and "Mensen" in page
    assert "Nudgebot-commando&#x27;s" in page
    response = await sandbox.client.post(
        "/sandbox/reset", data={"as": demo.ADMIN}, allow_redirects=False
    )
    assert response.status == 303
    page = await (await sandbox.client.get("/", params={"as": "sb-sam"})).text()
    assert 'id="empty-chat"' in page
    assert "De demo-organisatie staat weer" in page
    assert not sandbox.clock.shifted
    async with sandbox.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0
        assert await session.scalar(select(func.count()).select_from(Person)) == len(demo.PEOPLE)
