"""The preview is the real send's computation: who gets nudges, and what each one says."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nudges.coaching.compose import fill_member
from nudges.coaching.preview import NoNudges, plain_mentions, preview
from nudges.content.catalogue import default_catalogue
from nudges.people.org_file import OrgRow
from nudges.people.org_import import apply_org
from nudges.store.database import Database

MONDAY = datetime(2027, 3, 1, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))


async def _org(db: Database) -> None:
    async with db.session() as session:
        rows = [
            OrgRow(1, "slack", "T1", "UM", "UA", "Blue"),
            OrgRow(2, "slack", "T1", "UM", "UB", "Blue"),
        ]
        await apply_org(session, rows, dry_run=False)
        await session.commit()


async def test_a_manager_sees_each_nudges_title_and_action_in_their_language(
    db: Database,
) -> None:
    await _org(db)
    catalogue = default_catalogue()
    async with db.session() as session:
        items = await preview(
            session, catalogue, MONDAY, workspace_id="T1", person_id="UM", weeks=3
        )
        dutch = await preview(
            session, catalogue, MONDAY, workspace_id="T1", person_id="UM", weeks=1, locale="nl"
        )
    assert len(items) == 3
    for item, lang in [*((i, "en") for i in items), (dutch[0], "nl")]:
        text = catalogue.nudge(item.nudge_key).text(lang)
        # The member the nudge is about is one of the reports (or nobody), as a plain @id.
        worded = {
            (
                plain_mentions(fill_member(text.title, m)),
                plain_mentions(fill_member(text.action, m)),
            )
            for m in (None, "UA", "UB")
        }
        assert (item.title, item.action) in worded
        assert "<@" not in item.reason
    named = {"UA": "Ann", "UB": "Bo"}
    async with db.session() as session:
        with_names = await preview(
            session,
            catalogue,
            MONDAY,
            workspace_id="T1",
            person_id="UM",
            weeks=3,
            name_of=lambda uid: named.get(uid, uid),
        )
    text = " ".join(i.title + i.action + i.reason for i in with_names)
    assert "@UA" not in text and "@UB" not in text
    if any(i.reason != j.reason for i, j in zip(items, with_names, strict=True)):
        assert "@Ann" in text or "@Bo" in text


async def test_a_member_with_no_reports_gets_none(db: Database) -> None:
    await _org(db)
    async with db.session() as session:
        with pytest.raises(NoNudges, match="UA gets no nudges: nobody reports to them"):
            await preview(
                session, default_catalogue(), MONDAY, workspace_id="T1", person_id="UA", weeks=8
            )


def test_mentions_become_names_or_plain_ids() -> None:
    assert plain_mentions("ask <@U1> and <@U2|bo>") == "ask @U1 and @U2"
    assert plain_mentions("ask <@U1>", lambda uid: {"U1": "Ann"}[uid]) == "ask @Ann"
