"""Apply a click on a poll's emoji button and say, to the clicker alone, what they chose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges import directory
from nudges.i18n import t
from nudges.pulse.answers import AnswerOutcome, ButtonValue, record_answer
from nudges.pulse.messages import emoji, local_moment
from nudges.store.pulse import PulseParticipation, PulsePoll

NOTICES = {
    AnswerOutcome.CLOSED: "pulse.notice.closed",
    AnswerOutcome.NOT_ASKED: "pulse.notice.not_asked",
    AnswerOutcome.LOCKED: "pulse.notice.locked",
    AnswerOutcome.UNKNOWN: "pulse.notice.unknown",
}


@dataclass(frozen=True)
class Click:
    """What a click did, the note only the clicker sees, and the poll message to re-render.

    The note is the only place the chosen value is ever shown: platforms show it ephemerally,
    where the bot's token cannot read it back. The poll message itself never shows it.
    """

    outcome: AnswerOutcome
    notice: str | None = None
    delivery_id: int | None = None

    @property
    def stored(self) -> bool:
        """Tell whether the click recorded or changed an answer."""
        return self.outcome in (AnswerOutcome.RECORDED, AnswerOutcome.CHANGED)


async def apply_click(
    session: AsyncSession,
    *,
    platform: str,
    workspace_external_id: str,
    user_external_id: str,
    value: str,
    now: datetime,
) -> Click:
    """Record an answer (or a change) from a click and commit it."""
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
    moment = local_moment(locale, poll.closes_at, directory.zone_of(workspace, person))
    note = t(locale, "pulse.notice.your_answer", emoji=emoji(locale, button.value), moment=moment)
    return Click(outcome, note, delivery_id)
