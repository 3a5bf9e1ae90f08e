"""Apply a click on a poll's emoji button and render the poll with the chosen answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges import directory
from nudges.content.catalogue import Catalogue
from nudges.i18n import t
from nudges.messages import Message
from nudges.pulse.answers import AnswerOutcome, ButtonValue, record_answer
from nudges.pulse.bank import load_bank
from nudges.pulse.messages import poll_message
from nudges.pulse.results import effective_threshold
from nudges.store.pulse import PulseParticipation, PulsePoll

NOTICES = {
    AnswerOutcome.CLOSED: "pulse.notice.closed",
    AnswerOutcome.NOT_ASKED: "pulse.notice.not_asked",
    AnswerOutcome.ANSWERED_ELSEWHERE: "pulse.notice.answered_elsewhere",
    AnswerOutcome.UNKNOWN: "pulse.notice.unknown",
}


@dataclass(frozen=True)
class Click:
    """What a click did: the outcome, the poll message to show, or a notice instead."""

    outcome: AnswerOutcome
    notice: str | None = None
    message: Message | None = None
    delivery_id: int | None = None


async def apply_click(
    session: AsyncSession,
    catalogue: Catalogue,
    *,
    platform: str,
    workspace_external_id: str,
    user_external_id: str,
    value: str,
    now: datetime,
) -> Click:
    """Record an answer (or a change) from a click, commit it, and render the poll anew."""
    workspace = await directory.find_workspace(session, platform, workspace_external_id)
    locale = directory.locale_of(workspace) if workspace else "en"
    button = ButtonValue.decode(value)
    poll = await session.get(PulsePoll, button.poll_id) if button else None
    if button is None or workspace is None or poll is None or poll.workspace_id != workspace.id:
        return Click(AnswerOutcome.UNKNOWN, t(locale, NOTICES[AnswerOutcome.UNKNOWN]))
    person = await directory.find_person(session, workspace.id, user_external_id)
    if person is None:
        return Click(AnswerOutcome.NOT_ASKED, t(locale, NOTICES[AnswerOutcome.NOT_ASKED]))
    locale = directory.locale_of(workspace, person)
    outcome = await record_answer(session, poll, person.id, button, now)
    if outcome not in (AnswerOutcome.RECORDED, AnswerOutcome.CHANGED):
        await session.rollback()
        return Click(outcome, t(locale, NOTICES[outcome]))
    await session.commit()
    delivery_id = await session.scalar(
        select(PulseParticipation.delivery_id).where(
            PulseParticipation.poll_id == poll.id, PulseParticipation.person_id == person.id
        )
    )
    question = (await load_bank(session, workspace.id, catalogue)).find(poll.question_key)
    if delivery_id is None or question is None:
        return Click(outcome)
    message = poll_message(
        delivery_id=delivery_id,
        poll_id=poll.id,
        question=question.text(locale),
        locale=locale,
        threshold=effective_threshold(poll, directory.policy_of(workspace)),
        closes_at=poll.closes_at,
        zone=directory.zone_of(workspace, person),
        # The key comes from the click itself: the store never had it.
        key=button.key,
        chosen=button.value,
    )
    return Click(outcome, message=message, delivery_id=delivery_id)
