from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.edge import Profile
from bot.edge.people import People
from nudges.domain import Platform
from nudges.services import Services
from nudges.store.org import Person, Workspace
from tests.bot.edge.profiles import TableProfiles

DEFAULTS = {"default_locale": "nl", "default_timezone": "Europe/Amsterdam", "country": "NL"}


def _people(services: Services, profiles: TableProfiles) -> People:
    return People(services, Platform.TEAMS, profiles, workspace_defaults=DEFAULTS)


async def _person(services: Services, user_id: str) -> Person:
    async with services.db.session() as s:
        person = await s.scalar(select(Person).where(Person.external_id == user_id))
        assert person is not None
        return person


async def test_know_files_a_new_person_with_their_profile(services: Services) -> None:
    profiles = TableProfiles(
        {"U1": Profile("U1", timezone="America/New_York", locale="en-US", is_platform_admin=True)}
    )
    known = await _people(services, profiles).know("T1", "U1")
    assert (known.locale, known.platform_admin) == ("en", True)
    person = await _person(services, "U1")
    assert (person.timezone, person.locale) == ("America/New_York", "en")
    async with services.db.session() as s:
        workspace = await s.scalar(select(Workspace))
    assert workspace is not None
    assert (workspace.platform, workspace.external_id) == (Platform.TEAMS, "T1")
    assert workspace.default_locale == "nl"


async def test_a_deleted_profile_makes_the_person_unreachable(services: Services) -> None:
    profiles = TableProfiles({"U1": Profile("U1", deleted=True)})
    await _people(services, profiles).know("T1", "U1")
    assert not (await _person(services, "U1")).reachable


async def test_without_a_profile_the_person_is_a_non_admin_in_the_workspace_language(
    services: Services,
) -> None:
    profiles = TableProfiles()
    profiles.down = True
    known = await _people(services, profiles).know("T1", "U1")
    assert (known.locale, known.platform_admin) == ("nl", False)
    assert (await _person(services, "U1")).locale is None


async def test_filing_a_known_person_again_needs_no_database(services: Services) -> None:
    profiles = TableProfiles({"U1": Profile("U1", locale="en-GB")})
    people = _people(services, profiles)
    await people.file("T1", "U1")
    # With the store gone, filing the same person with the same profile still works.
    working = services.db.sessions
    services.db.sessions = None  # type: ignore[assignment]
    try:
        await people.file("T1", "U1")
        assert await people.stored_locale("T1", "U1") == "en"
    finally:
        services.db.sessions = working


async def test_a_changed_profile_is_stored_again(services: Services) -> None:
    profiles = TableProfiles({"U1": Profile("U1")})
    people = _people(services, profiles)
    await people.file("T1", "U1")
    assert (await _person(services, "U1")).timezone is None
    profiles.profiles["U1"] = Profile("U1", timezone="Asia/Tokyo")
    await people.file("T1", "U1")
    assert (await _person(services, "U1")).timezone == "Asia/Tokyo"


async def test_stored_locale_falls_back_to_the_default_with_the_store_down(
    services: Services,
) -> None:
    people = _people(services, TableProfiles())
    working = services.db.sessions
    services.db.sessions = None  # type: ignore[assignment]
    try:
        assert await people.stored_locale("T1", "U9") == "nl"
    finally:
        services.db.sessions = working


async def test_a_request_without_a_workspace_files_nobody(services: Services) -> None:
    people = _people(services, TableProfiles())
    with pytest.raises(ValueError, match="without a workspace"):
        await people.know("", "U1")


async def test_someone_named_an_admin_is_one_whatever_the_platform_says(
    services: Services,
) -> None:
    profiles = TableProfiles({"U1": Profile("U1", is_platform_admin=False)})
    people = People(services, Platform.TEAMS, profiles, admins=frozenset({"U1", "U2"}))
    assert (await people.know("T1", "U1")).platform_admin
    assert (await people.know("T1", "U2")).platform_admin
    assert not (await people.know("T1", "U3")).platform_admin
