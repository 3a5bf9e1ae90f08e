"""Give a fresh demo organisation a few weeks of past, played by the real product.

The clock goes back a few weeks, the demo is seeded there, and the real dispatcher ticks day
by day up to the present while the demo people answer what the bot sends them through the
same click and form paths the page uses: polls answered (and closed by the scheduler), nudges
done, snoozed or skipped, a commitment noted and followed up. Every choice is a fixed function
of who, which week and what arrived, so Reset always gives the same start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from bot.edge import Click, EdgeCore
from bot.sandbox import demo
from bot.sandbox.clock import SandboxClock
from bot.sandbox.inbox import Entry, Inbox
from bot.sandbox.travel import TimeTravel
from nudges.i18n import t
from nudges.messages import COMMITMENT_DUE, COMMITMENT_TEXT, Action, Actions, Button

logger = logging.getLogger(__name__)

# Seven weeks: the pulse asks about each of its three themes twice, so every chart has a trend.
HISTORY_WEEKS = 7
# Between two due moments the past may pass in longer steps than the page's clock takes: the
# dispatcher still plans what is up to twelve hours late, and nobody watches the steps.
HISTORY_STEP = timedelta(hours=11)
# People read their chat once a day, at this hour (UTC), and answer what is new.
READ_AT = time(8, 30)
# What each manager does with the nudge of week n (counted from 0), in turn.
NUDGE_MOVES = (
    (Action.NUDGE_DONE, Action.NUDGE_NOTE_COMMITMENT),
    (Action.NUDGE_SNOOZE_TOMORROW,),
    (Action.NUDGE_DONE,),
    (Action.NUDGE_SKIP,),
)
COMMITMENT_DAYS = 5


@dataclass
class History:
    """Play ``weeks`` of the demo's past with the real scheduler and the real click paths."""

    core: EdgeCore
    clock: SandboxClock
    travel: TimeTravel
    inbox: Inbox
    weeks: int = HISTORY_WEEKS
    _seen: set[int] = field(default_factory=set)

    def start(self, until: datetime) -> datetime:
        """Return where the past begins: ``weeks`` before ``until``, at the daily read."""
        first = (until - timedelta(weeks=self.weeks)).date()
        return datetime.combine(first, READ_AT, until.tzinfo)

    async def play(self, since: datetime, until: datetime, locale: str) -> int:
        """Tick from ``since`` to ``until`` one day at a time, answering what arrives.

        Returns how many clicks and forms the demo people made.
        """
        for person in demo.PEOPLE:
            # As on a platform, the edge reads each profile (the name) when someone shows up.
            await self.core.know(demo.WORKSPACE, person.id)
        moves = 0
        day = since
        while day < until:
            await self.travel.to(day, most=HISTORY_STEP)
            week = (day - since).days // 7
            for person in demo.PEOPLE:
                for entry in self.inbox.chat(demo.WORKSPACE, person.id):
                    if entry.kind == "bot" and entry.id not in self._seen:
                        self._seen.add(entry.id)
                        moves += await self._answer(person.id, entry, week, locale)
            day += timedelta(days=1)
        await self.travel.to(until, most=HISTORY_STEP)
        return moves

    async def _answer(self, person: str, entry: Entry, week: int, locale: str) -> int:
        buttons = _buttons(entry)
        if not buttons:
            return 0
        by_action = {b.action_id: b for b in buttons}
        index = next(i for i, p in enumerate(demo.PEOPLE) if p.id == person)
        if Action.PULSE_ANSWER in by_action:
            # Mood climbs over the weeks, a little different per person, so trends show.
            answers = [b for b in buttons if b.action_id == Action.PULSE_ANSWER]
            score = min(len(answers), 2 + (index + week) % 2 + week // 2)
            return await self._click(person, entry, answers[score - 1])
        if Action.FOLLOWUP_DONE in by_action:
            return await self._click(person, entry, by_action[Action.FOLLOWUP_DONE])
        if Action.NUDGE_DONE in by_action:
            moves = 0
            for action in NUDGE_MOVES[(index + week) % len(NUDGE_MOVES)]:
                button = by_action.get(action)
                if button is None:
                    break
                if action is Action.NUDGE_NOTE_COMMITMENT:
                    moves += await self._commit(person, entry, button, locale)
                else:
                    moves += await self._click(person, entry, button)
            return moves
        return 0

    async def _click(self, person: str, entry: Entry, button: Button) -> int:
        click = Click(demo.WORKSPACE, person, button.action_id, button.value, str(entry.id))
        result = await self.core.apply_click(click)
        return 1 if result is not None else 0

    async def _commit(self, person: str, entry: Entry, button: Button, locale: str) -> int:
        click = Click(demo.WORKSPACE, person, button.action_id, button.value, str(entry.id))
        result = await self.core.apply_click(click)
        if result is None or result.form is None:
            return 0
        due = (self.clock.now() + timedelta(days=COMMITMENT_DAYS)).date()
        values = {
            COMMITMENT_TEXT: t(locale, "sandbox.history.commitment"),
            COMMITMENT_DUE: due.isoformat(),
        }
        submitted = await self.core.submit_form(
            demo.WORKSPACE,
            person,
            result.form.callback_id,
            result.form.private_metadata,
            values,
        )
        if submitted.errors:
            logger.warning("sandbox history: the commitment form was refused: %s", submitted.errors)
            return 1
        return 2


def _buttons(entry: Entry) -> list[Button]:
    if entry.message is None:
        return []
    return [
        button
        for block in entry.message.blocks
        if isinstance(block, Actions)
        for button in block.buttons
    ]
