"""Installs, removals and unknown activities, posted in the samples' shapes to the real adapter."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from bot.teams.handler import REMOVED_APP
from nudges.store.audit import AuditEntry
from nudges.store.database import Database
from nudges.store.org import Person, Workspace
from tests.bot.teams.inbound_harness import (
    BOT,
    MEGAN_29,
    MEGAN_AAD,
    MEGAN_CHAT,
    TENANT,
    running_teams,
    sample,
)


async def _people(db: Database) -> list[tuple[str, str, Person]]:
    async with db.session() as session:
        rows = await session.execute(
            select(Workspace.platform, Workspace.external_id, Person).join(
                Person, Person.workspace_id == Workspace.id
            )
        )
        return [(p, w, person) for p, w, person in rows.all()]


async def test_a_personal_install_stores_the_reference_once_and_files_the_installer(
    db: Database,
) -> None:
    async with running_teams(db) as teams:
        first = await teams.install()
        # Teams sends both an installationUpdate and a conversationUpdate for one install.
        added = sample("conversationUpdate_bot_added_personal.json")
        added["conversation"]["id"] = MEGAN_CHAT
        added["recipient"] = {"id": BOT, "name": "Nudgebot Fixture"}
        added["membersAdded"] = [{"id": BOT}, {"id": MEGAN_29, "aadObjectId": MEGAN_AAD}]
        added["from"] = {"id": MEGAN_29, "aadObjectId": MEGAN_AAD}
        added["channelData"]["tenant"]["id"] = TENANT
        second = await teams.post(added)
        assert (first.status, second.status) == (201, 201)
        stored = await teams.conversations()
        assert len(stored) == 1
        ref = stored[0]
        assert ref.conversation_id == MEGAN_CHAT
        assert ref.tenant_id == TENANT
        assert ref.user_id == MEGAN_29
        assert ref.aad_object_id == MEGAN_AAD
        assert ref.bot_id == BOT
        assert ref.service_url == teams.connector.service_url
        assert ref.active
        people = await _people(db)
        assert [(p, w, person.external_id) for p, w, person in people] == [
            ("teams", TENANT, MEGAN_AAD)
        ]
        person = people[0][2]
        # No NUDGEBOT_ADMINS: the first installer of the tenant is its admin, as the log says.
        assert person.is_admin
        async with db.session() as session:
            [entry] = (await session.scalars(select(AuditEntry))).all()
        assert (entry.action, entry.target) == ("admins.add", f"person:{MEGAN_AAD}")
        assert person.timezone is None or person.timezone == "America/Los_Angeles"
        assert person.locale == "en"


async def test_a_team_install_takes_the_tenant_from_the_conversation(db: Database) -> None:
    async with running_teams(db) as teams:
        response = await teams.install(sample("installationUpdate_add_team.json"))
        assert response.status == 201
        [ref] = await teams.conversations()
        assert ref.conversation_type == "channel"
        assert ref.tenant_id == "5e5dfaac-585c-b1b7-9172-addd22abf5ff"
        assert ref.team_id == "19:3c3c57623d344b7d4d3918355982d02f@thread.tacv2"
        assert ref.user_id is None


async def test_a_conversation_update_without_tenant_id_uses_channel_data(db: Database) -> None:
    async with running_teams(db) as teams:
        added = sample("conversationUpdate_bot_added_team.json")
        del added["conversation"]["tenantId"]
        response = await teams.post(added)
        assert response.status == 201
        [ref] = await teams.conversations()
        assert ref.tenant_id == "5e5dfaac-585c-b1b7-9172-addd22abf5ff"


async def test_removal_marks_the_chat_inactive_and_the_person_unreachable_until_reinstalled(
    db: Database,
) -> None:
    async with running_teams(db) as teams:
        await teams.install()
        response = await teams.post(sample("installationUpdate_remove_personal.json"))
        assert response.status == 201
        [ref] = await teams.conversations()
        assert not ref.active
        [(_, _, person)] = await _people(db)
        assert not person.reachable
        assert person.unreachable_reason == REMOVED_APP
        await teams.install()
        [ref] = await teams.conversations()
        assert ref.active
        [(_, _, person)] = await _people(db)
        assert person.reachable


async def test_nudgebot_admins_replaces_the_first_installer_rule(db: Database) -> None:
    async with running_teams(db, admins="someone-else") as teams:
        await teams.install()
        [(_, _, person)] = await _people(db)
        assert not person.is_admin


async def test_unknown_and_ignored_activities_still_get_2xx(db: Database) -> None:
    async with running_teams(db) as teams:
        for name in (
            "messageReaction_added.json",
            "messageUpdate_edit_personal.json",
            "conversationUpdate_member_removed_team.json",
        ):
            response = await teams.post(sample(name))
            assert response.status in (200, 201), name
        odd = sample("message_personal.json")
        odd["type"] = "somethingNew"
        assert (await teams.post(odd)).status in (200, 201)
        assert teams.connector.calls == []


async def test_a_personal_message_refreshes_the_stored_reference(db: Database) -> None:
    async with running_teams(db) as teams:
        await teams.install()
        await teams.edge.store.remember(
            replace((await teams.conversations())[0], service_url="https://old.example/")
        )
        await teams.say("help")
        [ref] = await teams.conversations()
        assert ref.service_url == teams.connector.service_url


async def test_the_bot_removed_from_a_team_stops_sends_there(db: Database) -> None:
    async with running_teams(db) as teams:
        added = sample("conversationUpdate_bot_added_team.json")
        await teams.post(added)
        removed = sample("conversationUpdate_member_removed_team.json")
        removed["conversation"] = added["conversation"]
        removed["recipient"] = added["recipient"]
        removed["membersRemoved"] = [{"id": added["recipient"]["id"]}]
        assert (await teams.post(removed)).status == 201
        [ref] = await teams.conversations()
        assert not ref.active


async def test_the_zone_comes_from_local_timezone_and_the_locale_from_the_activity(
    db: Database,
) -> None:
    async with running_teams(db) as teams:
        edited = sample("messageUpdate_edit_personal.json")
        message = sample("message_personal.json")
        message.update(
            {
                "from": edited["from"],
                "conversation": edited["conversation"],
                "channelData": edited["channelData"],
                "localTimezone": "Europe/Amsterdam",
                "locale": "nl-NL",
                "text": "help",
            }
        )
        message["entities"] = [{"type": "clientInfo", "locale": "en-US"}]
        assert (await teams.post(message)).status == 201
        [(platform, tenant, person)] = await _people(db)
        assert (platform, tenant) == ("teams", "f654014c-8795-e3da-20be-7ebb90256209")
        assert person.external_id == "da3d55c8-00b2-0deb-0398-896717fcbddd"
        assert person.timezone == "Europe/Amsterdam"
        assert person.locale == "nl"
        # The reply is in Dutch, the person's language.
        [reply] = [c.activity for c in teams.connector.calls if c.method == "POST"]
        assert "Nudgebot-commando" in reply["text"]


async def test_the_name_teams_shows_is_stored_and_follows_a_rename(db: Database) -> None:
    async with running_teams(db) as teams:
        edited = sample("messageUpdate_edit_personal.json")
        message = sample("message_personal.json")
        message.update(
            {
                "from": {**edited["from"], "name": "Megan Bowen"},
                "conversation": edited["conversation"],
                "channelData": edited["channelData"],
                "text": "help",
            }
        )
        assert (await teams.post(message)).status == 201
        [(_, _, person)] = await _people(db)
        assert person.display_name == "Megan Bowen"
        renamed = {**message, "id": "renamed-1", "from": {**message["from"], "name": "Megan B."}}
        assert (await teams.post(renamed)).status == 201
        [(_, _, person)] = await _people(db)
        assert person.display_name == "Megan B."
