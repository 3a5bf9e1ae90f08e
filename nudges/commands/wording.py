"""Put schedules, lists, languages and countries into words, and find the next nudge."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.coaching.upcoming import next_free_occurrence
from nudges.commands.ast import LAST
from nudges.commands.context import Context, mention
from nudges.commands.topics import echo
from nudges.domain import Frequency
from nudges.i18n import format_moment, t
from nudges.people import workweeks
from nudges.scheduling.calendar import (
    Availability,
    CadenceSpec,
    Occurrence,
)
from nudges.store.org import Person, Workspace

_DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ORDINAL_KEYS = {1: "first", 2: "second", 3: "third", 4: "fourth", LAST: "last"}


def clock_time(at: time) -> str:
    """Write a wall-clock time as 24-hour HH:MM."""
    return at.strftime("%H:%M")


def day_name(locale: str, weekday: int) -> str:
    """Name a weekday (0 is Monday) in ``locale``."""
    return t(locale, f"replies.day.{_DAY_KEYS[weekday]}")


def cadence_words(locale: str, spec: CadenceSpec) -> str:
    """Describe a cadence, e.g. 'weekly on Tuesday at 10:00'."""
    at = clock_time(spec.at)
    if spec.frequency is Frequency.WEEKDAYS or spec.weekday is None:
        return t(locale, "replies.cadence.words.weekdays", time=at)
    day = day_name(locale, spec.weekday)
    if spec.frequency is Frequency.MONTHLY:
        ordinal = t(locale, f"replies.ordinal.{_ORDINAL_KEYS.get(spec.ordinal or 1, 'first')}")
        return t(locale, "replies.cadence.words.monthly", ordinal=ordinal, day=day, time=at)
    return t(locale, f"replies.cadence.words.{spec.frequency.value}", day=day, time=at)


def join_words(locale: str, items: Sequence[str], conjunction: str = "and") -> str:
    """Join items as 'a, b and c' (or 'or') in ``locale``."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    word = t(locale, f"replies.common.{conjunction}")
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def mentions(locale: str, external_ids: Sequence[str], conjunction: str = "and") -> str:
    """Mention people as 'a, b and c'."""
    return join_words(locale, [mention(e) for e in external_ids], conjunction)


def language_name(locale: str, language: str) -> str:
    """Name a supported language in ``locale``."""
    return t(locale, f"replies.language.name.{language}")


def country_name(locale: str, code: str) -> str:
    """Name a country in ``locale`` from Babel's territory data, else return the code."""
    try:
        names = Locale.parse(locale).territories
    except (UnknownLocaleError, ValueError):
        return code
    # A subdivision (DE-BY) is named by its country: Germany (DE-BY).
    name = names.get(code.partition("-")[0])
    return f"{name} ({code})" if isinstance(name, str) else code


async def workspace_availability(session: AsyncSession, workspace: Workspace) -> Availability:
    """Say when someone on the workspace defaults (its working week) may receive messages."""
    book = await workweeks.WorkweekBook.load(session, workspace)
    # A stand-in with no zone, country, team or leave of its own follows the workspace.
    return book.availability(Person(id=0, workspace_id=workspace.id))


def moment_words(locale: str, occurrence: Occurrence) -> str:
    """Write an occurrence's local moment with its zone, e.g. 'Tuesday 24 November, 10:00'."""
    return format_moment(locale, occurrence.local)


def zone_name(occurrence: Occurrence) -> str:
    """Name the zone an occurrence is placed in."""
    zone = occurrence.local.tzinfo
    return zone.key if isinstance(zone, ZoneInfo) else str(zone)


async def next_nudge(ctx: Context, person: Person) -> Occurrence | None:
    """Return when ``person``'s next scheduled nudge goes out, as the dispatcher would plan it."""
    return await next_free_occurrence(ctx.session, ctx.workspace, person, ctx.now)


def nudge_title(ctx: Context, key: str) -> str:
    """Return a nudge's title in the reader's language (its key when it left the catalogue)."""
    try:
        return ctx.catalogue.nudge(key).text(ctx.locale).title
    except KeyError:
        return echo(key)
