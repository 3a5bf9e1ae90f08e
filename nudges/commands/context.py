"""Hold what every command handler needs: the session, the actor, their language, the reply."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.commands.ast import PersonRef, SelfRef
from nudges.commands.topics import echo
from nudges.content.catalogue import Catalogue
from nudges.domain import Platform
from nudges.i18n import t
from nudges.people import directory, tombstones
from nudges.ports import DashboardLinks
from nudges.services.dispatch import Dispatcher
from nudges.store.audit import audit_entry
from nudges.store.org import Person, Workspace

REPLIES = "replies."

# Column widths of the store: longer values would fail on PostgreSQL, so refuse them politely.
MAX_EXTERNAL_ID = 128
MAX_TEAM_NAME = 100

# What a person's id looks like on each platform: Slack users are U… (W… on Enterprise Grid),
# Teams users 29:… (Bot Framework) or an Azure AD object id.
ID_SHAPES: dict[str, re.Pattern[str]] = {
    Platform.SLACK: re.compile(r"^[UW][A-Z0-9]{1,31}$"),
    Platform.TEAMS: re.compile(
        r"^(29:[A-Za-z0-9_.:=+/-]{1,125}|[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})$"
    ),
}


@dataclass(frozen=True)
class Send:
    """Ask the service to send a delivery once the transaction is committed."""

    delivery_id: int
    # Turns the dispatcher's status and the delivery's last error into the reply text.
    describe: Callable[[str, str | None], str]


@dataclass(frozen=True)
class Outcome:
    """Say what a handler did: the reply, whether it succeeded, and what to send afterwards."""

    text: str
    ok: bool = True
    send: Send | None = None


class Failure(Exception):
    """Stop a handler with a refusal or error; the service rolls the transaction back."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class Audits:
    """Give a command's context ``audit``: record a change in the change's own transaction."""

    session: AsyncSession
    workspace: Workspace
    actor: Person
    now: datetime

    def audit(self, action: str, target: str, **details: Any) -> None:
        """Record an admin change in the same transaction as the change itself."""
        self.session.add(
            audit_entry(
                workspace_id=self.workspace.id,
                actor_id=self.actor.id,
                action=action,
                target=target,
                details=details,
                when=self.now,
            )
        )


@dataclass
class Context(Audits):
    """Carry one command's session, workspace, actor and reply language."""

    session: AsyncSession
    dispatcher: Dispatcher
    workspace: Workspace
    actor: Person
    platform_admin: bool
    prefix: str
    now: datetime
    dashboard_links: DashboardLinks | None = None
    # Whether only the actor reads the reply.
    private: bool = True

    @property
    def locale(self) -> str:
        """Return the actor's language, read anew so a language change shows at once."""
        return directory.locale_of(self.workspace, self.actor)

    @property
    def is_admin(self) -> bool:
        """Tell whether the actor may run admin commands."""
        return self.actor.is_admin or self.platform_admin

    @property
    def catalogue(self) -> Catalogue:
        """Return the nudge catalogue the dispatcher sends from."""
        return self.dispatcher.catalogue

    def say(self, key: str, /, **params: object) -> str:
        """Translate a reply key into the actor's language."""
        return t(self.locale, REPLIES + key, prefix=self.prefix, **params)

    def about(self, person: Person, key: str, /, **params: object) -> str:
        """Translate ``key.you`` when ``person`` is the actor, else ``key.person``."""
        if person.id == self.actor.id:
            return self.say(f"{key}.you", **params)
        return self.say(f"{key}.person", person=person.external_id, **params)

    def fail(self, key: str, /, **params: object) -> Failure:
        """Build a Failure carrying a translated reply."""
        return Failure(self.say(key, **params))

    def today_of(self, person: Person) -> date:
        """Return ``person``'s calendar date now."""
        return directory.local_today(self.workspace, person, self.now)

    def check_id(self, external_id: str) -> str:
        """Return a mentioned platform id, or fail when it cannot be a real one."""
        if not external_id.isprintable() or len(external_id) > MAX_EXTERNAL_ID:
            raise self.fail("common.bad_mention", word=shown(external_id))
        shape = ID_SHAPES.get(self.workspace.platform)
        if shape is not None and not shape.match(external_id):
            raise self.fail(f"common.bad_id.{self.workspace.platform}", word=shown(external_id))
        return external_id

    async def find(self, ref: PersonRef) -> Person | None:
        """Return the mentioned person if the store knows them."""
        external_id = self.check_id(ref.user_id)
        return await directory.find_person(self.session, self.workspace.id, external_id)

    async def known(self, ref: PersonRef) -> Person:
        """Return the mentioned person, or fail with a hint on how to add them."""
        person = await self.find(ref)
        if person is None:
            raise self.fail("common.unknown_person", person=ref.user_id)
        return person

    async def person(self, ref: PersonRef | SelfRef) -> Person:
        """Return the mentioned person (created when new), or the actor for a self reference."""
        if isinstance(ref, SelfRef):
            return self.actor
        external_id = self.check_id(ref.user_id)
        known = await directory.find_person(self.session, self.workspace.id, external_id)
        if known is not None:
            return known
        # Someone erased comes back only by using the bot themselves, not by being mentioned.
        if await tombstones.is_forgotten(self.session, self.workspace, external_id):
            raise self.fail("rights.forgotten", person=external_id)
        return await directory.ensure_person(self.session, self.workspace, external_id)

    async def stored_admins(self) -> list[Person]:
        """Return the people made admin with ``admins add``, oldest first."""
        rows = await self.session.scalars(
            select(Person)
            .where(Person.workspace_id == self.workspace.id, Person.is_admin.is_(True))
            .order_by(Person.id)
        )
        return list(rows.all())


def shown(text: str) -> str:
    """Echo typed text safely, with control characters replaced."""
    return echo("".join(ch if ch.isprintable() else "\N{REPLACEMENT CHARACTER}" for ch in text))


def person_target(person: Person) -> str:
    """Name a person in the audit log's target column."""
    return f"person:{person.external_id}"


def mention(external_id: str) -> str:
    """Write a mention in the neutral markup."""
    return f"<@{external_id}>"
