"""Render a pulse poll or reminder as its recipient sees it (never with their answer)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.content.catalogue import Catalogue
from nudges.domain import DeliveryKind
from nudges.i18n import t
from nudges.messages import Message
from nudges.people import directory
from nudges.pulse.answers import is_open
from nudges.pulse.bank import load_bank
from nudges.pulse.messages import poll_message, reminder_message
from nudges.pulse.results import effective_threshold
from nudges.scheduling.workweek import (
    DEFAULT_WORKWEEK,
    days_text,
    decode_days,
)
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace
from nudges.store.pulse import PulseParticipation, PulsePoll


async def compose(
    session: AsyncSession,
    catalogue: Catalogue,
    delivery: Delivery,
    workspace: Workspace,
    person: Person,
    now: datetime,
) -> Message | None:
    """Render a poll (answered or not, never with the answer) or a reminder."""
    poll = await session.get(PulsePoll, (delivery.payload or {}).get("poll_id"))
    if poll is None:
        return None
    locale = directory.locale_of(workspace, person)
    zone = directory.zone_of(workspace, person)
    bank = await load_bank(session, workspace.id, catalogue)
    question = bank.find(poll.question_key)
    if question is None:
        return None
    text = question.text(locale)
    participation = await session.scalar(
        select(PulseParticipation).where(
            PulseParticipation.poll_id == poll.id, PulseParticipation.person_id == person.id
        )
    )
    if delivery.kind == DeliveryKind.PULSE_REMINDER.value:
        poll_delivery = (
            await session.get(Delivery, participation.delivery_id)
            if participation is not None and participation.delivery_id is not None
            else None
        )
        sent = poll_delivery.sent_at if poll_delivery and poll_delivery.sent_at else now
        return reminder_message(
            delivery_id=delivery.id,
            question=text,
            locale=locale,
            threshold=effective_threshold(poll, directory.policy_of(workspace)),
            sent_on=sent.astimezone(zone).date(),
            closes_at=poll.closes_at,
            zone=zone,
        )
    return render_poll(
        delivery.id,
        poll,
        text,
        workspace,
        person,
        now,
        answered=bool(participation and participation.answered),
    )


def render_poll(
    delivery_id: int,
    poll: PulsePoll,
    question: str,
    workspace: Workspace,
    person: Person,
    now: datetime,
    *,
    answered: bool,
) -> Message:
    """Render a poll message as ``person`` sees it at ``now`` (never with their answer)."""
    return poll_message(
        delivery_id=delivery_id,
        poll_id=poll.id,
        question=question,
        locale=directory.locale_of(workspace, person),
        threshold=effective_threshold(poll, directory.policy_of(workspace)),
        closes_at=poll.closes_at,
        zone=directory.zone_of(workspace, person),
        is_closed=not is_open(poll, now),
        answered=answered,
        window=_window(poll, workspace, directory.locale_of(workspace, person)),
    )


def _window(poll: PulsePoll, workspace: Workspace, locale: str) -> tuple[int, str] | None:
    """Return how many working days a poll is open and the week they count in, if not Mon-Fri."""
    if not poll.working_days or decode_days(poll.working_days) == DEFAULT_WORKWEEK.days:
        return None
    names = t(locale, "replies.workweek.day_names").split(",")
    days_word = days_text(decode_days(poll.working_days), names)
    return directory.policy_of(workspace).pulse_window_days, days_word
