"""Show what the planner would send a person over the coming weeks, without sending anything.

The preview walks the same path as the real send: only the people the dispatcher plans nudges
for (``directory.managers``) get any, with the same planner input, and each item carries the
nudge's title and action in the recipient's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from nudges.coaching.compose import fill_member
from nudges.coaching.inputs import planner_input, working_on
from nudges.coaching.planner import PastNudge, ReportInfo, choose
from nudges.coaching.upcoming import is_planned, stored_nudge
from nudges.content.catalogue import Catalogue
from nudges.domain import DeliveryKind, Kind
from nudges.i18n import format_day, t
from nudges.people import directory, workweeks
from nudges.scheduling.calendar import Occurrence, occurrences_between, skipped_between
from nudges.store.org import Person, Workspace

MENTION = re.compile(r"<@([^>|\s]+)(?:\|[^>]*)?>")


class PreviewError(Exception):
    """Raised when the workspace or person cannot be found."""


class NoNudges(Exception):
    """Raised when the person is not someone the dispatcher plans nudges for, saying why."""


def plain_mentions(text: str, name_of: Callable[[str], str] | None = None) -> str:
    """Write mentions as ``@name`` (or ``@id`` when no name is known) for plain-text output."""
    return MENTION.sub(lambda m: "@" + (name_of(m.group(1)) if name_of else m.group(1)), text)


@dataclass(frozen=True)
class PlannedItem:
    """One delivery the planner would make."""

    local_time: str
    utc_time: str
    kind: str
    nudge_key: str
    reason: str
    moved: str | None
    status: str
    title: str = ""
    action: str = ""
    # Why the slot moved, in the person's language: "Friday … is @lars's day off → Monday …".
    moved_why: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dict."""
        return asdict(self)


async def _find(
    session: AsyncSession, workspace_id: str, person_id: str, platform: str | None
) -> tuple[Workspace, Person]:
    try:
        workspace = await directory.workspace_by_external_id(session, workspace_id, platform)
    except directory.WorkspaceLookupError as exc:
        raise PreviewError(str(exc)) from None
    person = await directory.find_person(session, workspace.id, person_id)
    if person is None:
        raise PreviewError(f"no person {person_id!r} in workspace {workspace_id!r}")
    return workspace, person


async def preview(
    session: AsyncSession,
    catalogue: Catalogue,
    now: datetime,
    *,
    workspace_id: str,
    person_id: str,
    weeks: int,
    platform: str | None = None,
    locale: str | None = None,
    name_of: Callable[[str], str] | None = None,
) -> list[PlannedItem]:
    """List the nudges ``person`` would get from ``now`` for ``weeks`` weeks.

    Texts are in ``locale``, else the person's own language; mentions read ``@name`` when
    ``name_of`` knows one, else ``@id``. Raises ``NoNudges`` for someone who gets none.
    """
    workspace, person = await _find(session, workspace_id, person_id, platform)
    if all(m.id != person.id for m in await directory.managers(session, workspace.id)):
        raise NoNudges(
            f"{person_id} gets no nudges: nobody reports to them, and they have no cadence "
            "of their own and no programme (import reporting lines with `nudgebot import-org`)"
        )
    if person.opted_out or not person.reachable:
        why = "opted out" if person.opted_out else "unreachable on the platform"
        raise NoNudges(f"{person_id} gets no nudges: {why}")
    language = locale or directory.locale_of(workspace, person)
    spec, _source = await directory.effective_cadence(session, workspace, person)
    avail = await workweeks.availability_of(session, workspace, person)
    inp = await planner_input(session, workspace, person, now)
    history = list(inp.history)
    reports = {r.person_id: r for r in inp.reports}
    report_people = [p for p in await directory.reports_of(session, person) if p.id in reports]
    items: list[PlannedItem] = []
    for occ in occurrences_between(spec, avail, now, now + timedelta(weeks=weeks)):
        status = "planned"
        if person.opted_out:
            status = "skipped: opted out"
        elif person.paused_until and occ.local.date() <= person.paused_until:
            status = "skipped: paused"
        existing = await stored_nudge(session, person, occ)
        if existing is not None:
            payload = existing.payload or {}
            title, action = _wording(
                catalogue, existing.content_key, language, payload.get("member")
            )
            # Worded anew, as the message is, rather than the English line stored for the log.
            reason_key = payload.get("reason_key")
            reason = (
                t(language, reason_key, **payload.get("reason_params", {}))
                if reason_key
                else existing.reason
            )
            items.append(
                PlannedItem(
                    occ.local.isoformat(timespec="minutes"),
                    occ.utc.isoformat(timespec="minutes"),
                    str(payload.get("kind", existing.kind)),
                    existing.content_key,
                    plain_mentions(reason, name_of),
                    occ.moved,
                    "planned" if is_planned(existing) else f"already {existing.status}",
                    plain_mentions(title, name_of),
                    plain_mentions(action, name_of),
                    _why(language, person, occ, name_of),
                )
            )
            kind = str(payload.get("kind", ""))
            if is_planned(existing) and kind in Kind.__members__.values():
                past = PastNudge(existing.content_key, Kind(kind), occ.utc)
                _as_sent(history, reports, past, existing.subject_id)
            continue
        # Who works that day, as the planner will see it when the slot comes.
        working = await working_on(session, workspace, report_people, occ.utc)
        sim = replace(
            inp,
            today=occ.local.date(),
            history=tuple(history),
            reports=tuple(replace(r, working=working[r.person_id]) for r in reports.values()),
        )
        choice = choose(sim, catalogue, occ.utc)
        if choice is None:
            continue
        title, action = _wording(catalogue, choice.nudge_key, language, choice.subject_external_id)
        items.append(
            PlannedItem(
                occ.local.isoformat(timespec="minutes"),
                occ.utc.isoformat(timespec="minutes"),
                choice.kind.value,
                choice.nudge_key,
                plain_mentions(t(language, choice.reason_key, **choice.reason_params), name_of),
                occ.moved,
                status,
                plain_mentions(title, name_of),
                plain_mentions(action, name_of),
                _why(language, person, occ, name_of),
            )
        )
        if status == "planned":
            past = PastNudge(choice.nudge_key, choice.kind, occ.utc)
            _as_sent(history, reports, past, choice.subject_id)
    for nominal, reason in skipped_between(spec, avail, now, now + timedelta(weeks=weeks)):
        why = t(
            language,
            f"replies.status.skipped.{reason.value}",
            person=person.external_id,
            day=format_day(language, nominal.date()),
        )
        items.append(
            PlannedItem(
                nominal.isoformat(timespec="minutes"),
                nominal.astimezone(UTC).isoformat(timespec="minutes"),
                DeliveryKind.NUDGE.value,
                "",
                "",
                reason.value,
                "skipped",
                moved_why=plain_mentions(why, name_of),
            )
        )
    items.sort(key=lambda item: item.utc_time)
    return items


def _why(locale: str, person: Person, occ: Occurrence, name_of: Callable[[str], str] | None) -> str:
    words = workweeks.moved_words(locale, person, occ)
    return plain_mentions(words.strip(), name_of) if words else ""


def _as_sent(
    history: list[PastNudge],
    reports: dict[int, ReportInfo],
    past: PastNudge,
    subject_id: int | None,
) -> None:
    """Count a nudge as sent at its slot, for the weeks after it (as the real planner would)."""
    history.append(past)
    if subject_id is not None and subject_id in reports:
        old = reports[subject_id]
        reports[subject_id] = replace(old, last_checkin=past.sent_at)


def _wording(catalogue: Catalogue, key: str, locale: str, member: str | None) -> tuple[str, str]:
    """Return a nudge's title and action as the message would word them."""
    try:
        nudge = catalogue.nudge(key)
    except KeyError:
        return key, ""
    text = nudge.text(locale)
    return fill_member(text.title, member), fill_member(text.action, member)
