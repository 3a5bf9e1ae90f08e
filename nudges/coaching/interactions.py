"""Handle clicks on nudge, follow-up and poll buttons, and the commitment forms; all idempotent."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.coaching.compose import (
    MAX_COMMITMENT_CHARS,
    move_commitment_form,
    moved_notice,
    note_commitment_form,
)
from nudges.coaching.deliveries import outcome_is_final
from nudges.content.catalogue import Catalogue
from nudges.delivery import Dispatcher, idempotency_key
from nudges.domain import CommitmentState, DeliveryKind, DeliveryStatus, NudgeState
from nudges.i18n import format_day, t
from nudges.messages import (
    COMMITMENT_DUE,
    COMMITMENT_TEXT,
    Action,
    Form,
    FormId,
    Message,
    control_character,
)
from nudges.people import directory, workweeks
from nudges.pulse.answers import AnswerOutcome
from nudges.pulse.clicks import AnswerClick, ClickBatcher
from nudges.scheduling.calendar import NoAllowedDayError, next_allowed_moment
from nudges.store.commitments import Commitment
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace

logger = logging.getLogger(__name__)

DEFAULT_COMMITMENT_DAYS = 7
# Clicks (other than poll answers, which are batched) applied at once; the rest wait their
# turn here rather than for a database connection, where a burst would time out.
CONCURRENT_CLICKS = 4
# Clicks that change a message's state: the newest by the platform's click time wins.
ORDERED = frozenset(
    {
        Action.NUDGE_DONE,
        Action.NUDGE_SNOOZE_TOMORROW,
        Action.NUDGE_SNOOZE_WEEK,
        Action.NUDGE_SKIP,
        Action.NUDGE_NOT_RELEVANT,
        Action.FOLLOWUP_DONE,
        Action.FOLLOWUP_DROP,
    }
)
OPEN_COMMITMENT = (CommitmentState.OPEN.value, CommitmentState.MOVED.value)


@dataclass(frozen=True)
class Actor:
    """Who clicked or submitted, as the platform names them."""

    platform: str
    workspace_external_id: str
    user_external_id: str
    # False where others read the reply too (a Teams channel): no personal links there.
    private: bool = True


@dataclass(frozen=True)
class ActionResult:
    """What the platform should show after an interaction.

    ``notice`` is for the actor alone: platforms show it ephemerally, never in the history.
    """

    message: Message | None = None
    form: Form | None = None
    notice: str | None = None
    changed: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    # A newer click of the person on the same message won: show nothing for this one.
    superseded: bool = False


@dataclass
class _Loaded:
    delivery: Delivery
    person: Person
    workspace: Workspace
    locale: str


class Interactions:
    """Apply what people do with the bot's messages to the store."""

    def __init__(self, dispatcher: Dispatcher, catalogue: Catalogue) -> None:
        self.dispatcher = dispatcher
        self.db = dispatcher.db
        self.clock = dispatcher.clock
        # Answers to polls arrive in bursts; they are recorded a batch per transaction.
        self.pulse_answers = ClickBatcher(self.db, catalogue)
        self._turns = asyncio.Semaphore(CONCURRENT_CLICKS)

    async def _load(
        self, session: AsyncSession, actor: Actor, raw_id: str, *, lock: bool = False
    ) -> _Loaded | ActionResult:
        try:
            delivery_id = int(raw_id)
        except (TypeError, ValueError):
            return ActionResult(notice=t("en", "messages.notice.unknown"))
        # Locked for a click that changes it, so clicks on one message take turns across
        # replicas and the comparison of click times holds until the commit.
        delivery = await session.get(Delivery, delivery_id, with_for_update=lock or None)
        workspace = await directory.find_workspace(
            session, actor.platform, actor.workspace_external_id
        )
        if delivery is None or workspace is None or delivery.workspace_id != workspace.id:
            locale = directory.locale_of(workspace) if workspace else "en"
            return ActionResult(notice=t(locale, "messages.notice.unknown"))
        person = await session.get(Person, delivery.recipient_id)
        assert person is not None
        if person.external_id != actor.user_external_id:
            clicker = await directory.find_person(session, workspace.id, actor.user_external_id)
            return ActionResult(
                notice=t(directory.locale_of(workspace, clicker), "messages.notice.not_yours")
            )
        return _Loaded(delivery, person, workspace, directory.locale_of(workspace, person))

    async def _render(self, session: AsyncSession, loaded: _Loaded) -> Message | None:
        return await self.dispatcher.compose(
            session, loaded.delivery, loaded.workspace, loaded.person
        )

    async def on_action(
        self, actor: Actor, action_id: str, value: str, clicked_at: float | None = None
    ) -> ActionResult:
        """Apply a button click and say what to show.

        ``clicked_at`` is the platform's time of the click (epoch seconds), when it says: a
        click older than the newest one applied to the message is dropped, decided in the
        transaction that would apply it, so the last click wins whichever replica serves it.
        """
        try:
            action = Action(action_id)
        except ValueError:
            return ActionResult(notice=t("en", "messages.notice.unknown"))
        if action is Action.PULSE_ANSWER:
            return await self._pulse_answer(actor, value, clicked_at)
        async with self._turns:
            return await self._apply(actor, action, value, clicked_at)

    async def _apply(
        self, actor: Actor, action: Action, value: str, clicked_at: float | None
    ) -> ActionResult:
        at = None if clicked_at is None else datetime.fromtimestamp(clicked_at, UTC)
        async with self.db.session() as session:
            loaded = await self._load(session, actor, value, lock=action in ORDERED)
            if isinstance(loaded, ActionResult):
                return loaded
            delivery = loaded.delivery
            last = delivery.last_click_at
            if action in ORDERED and at is not None and last is not None and at < last:
                return ActionResult(superseded=True)
            if action is Action.NUDGE_NOTE_COMMITMENT:
                today = directory.local_today(loaded.workspace, loaded.person, self.clock.now())
                return ActionResult(
                    form=note_commitment_form(
                        delivery.id, loaded.locale, today + timedelta(days=DEFAULT_COMMITMENT_DAYS)
                    )
                )
            if action is Action.FOLLOWUP_MOVE:
                commitment = await self._commitment_of(session, delivery)
                if commitment is None:
                    return ActionResult(notice=t(loaded.locale, "messages.notice.unknown"))
                if commitment.state not in OPEN_COMMITMENT:
                    return ActionResult(notice=t(loaded.locale, "messages.notice.closed"))
                return ActionResult(
                    form=move_commitment_form(
                        delivery.id,
                        loaded.locale,
                        max(commitment.due_on, self._today(loaded)) + timedelta(days=7),
                    )
                )
            if action in (Action.FOLLOWUP_DONE, Action.FOLLOWUP_DROP):
                changed = await self._close_commitment(session, loaded, action)
            else:
                changed = await self._nudge_outcome(session, loaded, action, at)
            if changed and at is not None:
                delivery.last_click_at = at
            await session.commit()
            message = await self._render(session, loaded)
        if changed:
            await self.dispatcher.update_message(delivery.id)
        return ActionResult(message=message, changed=changed)

    async def _pulse_answer(
        self, actor: Actor, value: str, clicked_at: float | None
    ) -> ActionResult:
        click = await self.pulse_answers.apply(
            AnswerClick(
                actor.platform,
                actor.workspace_external_id,
                actor.user_external_id,
                value,
                self.clock.now(),
                clicked_at,
            )
        )
        if click.superseded:
            return ActionResult(superseded=True)
        # The message shows only that they answered, so a change leaves it as it is.
        if click.outcome is AnswerOutcome.RECORDED and click.delivery_id is not None:
            await self.dispatcher.update_message(click.delivery_id, click.message)
        return ActionResult(notice=click.notice, changed=click.stored)

    def _today(self, loaded: _Loaded) -> date:
        return directory.local_today(loaded.workspace, loaded.person, self.clock.now())

    async def _nudge_outcome(
        self, session: AsyncSession, loaded: _Loaded, action: Action, at: datetime | None
    ) -> bool:
        delivery = loaded.delivery
        # A final outcome stays, unless a click the person made after the one that set it
        # (on a view still showing the buttons) says otherwise: their last click wins.
        last = delivery.last_click_at
        newer = at is not None and last is not None and at > last
        if outcome_is_final(delivery.outcome) and not newer:
            return False
        now = self.clock.now()
        payload = dict(delivery.payload or {})
        if action in (Action.NUDGE_SNOOZE_TOMORROW, Action.NUDGE_SNOOZE_WEEK):
            days = 1 if action is Action.NUDGE_SNOOZE_TOMORROW else 7
            when = await self._snooze_moment(session, loaded, days)
            if when is None:
                return False
            await self._schedule_snooze(session, loaded, when)
            payload["snoozed_until"] = when.date().isoformat()
            delivery.payload = payload
            delivery.outcome = NudgeState.SNOOZED.value
            delivery.outcome_at = now
            return True
        outcome = {
            Action.NUDGE_DONE: NudgeState.DONE,
            Action.NUDGE_SKIP: NudgeState.SKIPPED,
            Action.NUDGE_NOT_RELEVANT: NudgeState.NOT_RELEVANT,
        }[action]
        delivery.outcome = outcome.value
        delivery.outcome_at = now
        await self._cancel_snooze(session, delivery)
        return True

    async def _snooze_moment(
        self, session: AsyncSession, loaded: _Loaded, days: int
    ) -> datetime | None:
        avail = await workweeks.availability_of(session, loaded.workspace, loaded.person)
        slot = loaded.delivery.scheduled_at.astimezone(avail.timezone).time()
        # A nudge sent after hours on request (send-now, test) comes back at the day's start,
        # not after hours again, which would push "tomorrow" to the day after.
        if slot > avail.work_end:
            slot = avail.work_start
        target = datetime.combine(self._today(loaded) + timedelta(days=days), slot).replace(
            tzinfo=avail.timezone
        )
        try:
            return next_allowed_moment(target, avail)
        except NoAllowedDayError:
            return None

    def _snooze_key(self, delivery: Delivery, number: int = 1) -> str:
        item = f"snooze:{delivery.id}" if number == 1 else f"snooze:{delivery.id}:{number}"
        return idempotency_key(DeliveryKind.NUDGE, delivery.recipient_id, item)

    async def _snooze_copies(self, session: AsyncSession, delivery: Delivery) -> list[Delivery]:
        first = self._snooze_key(delivery)
        rows = await session.scalars(
            select(Delivery).where(
                or_(
                    Delivery.idempotency_key == first,
                    Delivery.idempotency_key.like(f"{first}:%"),
                )
            )
        )
        return list(rows.all())

    async def _schedule_snooze(
        self, session: AsyncSession, loaded: _Loaded, when: datetime
    ) -> None:
        delivery = loaded.delivery
        copies = await self._snooze_copies(session, delivery)
        pending = [c for c in copies if c.status == DeliveryStatus.PENDING.value]
        if pending:
            for copy in pending:
                copy.scheduled_at = copy.next_attempt_at = when
            return
        # Every earlier copy already went out (or was dropped): snoozing again needs a new one.
        # A send-now's "explicit" skipped pauses and working hours once; the snooze must not.
        dropped = ("snoozed_until", "explicit")
        payload = {k: v for k, v in (delivery.payload or {}).items() if k not in dropped}
        payload["snooze_of"] = delivery.id
        payload["requested"] = True
        await self.dispatcher.insert_delivery(
            session,
            idempotency_key=self._snooze_key(delivery, len(copies) + 1),
            workspace_id=delivery.workspace_id,
            recipient_id=delivery.recipient_id,
            kind=delivery.kind,
            content_key=delivery.content_key,
            period_key=delivery.period_key,
            subject_id=delivery.subject_id,
            reason=delivery.reason,
            payload=payload,
            scheduled_at=when,
        )

    async def _cancel_snooze(self, session: AsyncSession, delivery: Delivery) -> None:
        for copy in await self._snooze_copies(session, delivery):
            if copy.status == DeliveryStatus.PENDING.value:
                copy.status = DeliveryStatus.CANCELLED.value
                copy.last_error = "the original was answered"

    async def _commitment_of(self, session: AsyncSession, delivery: Delivery) -> Commitment | None:
        commitment_id = (delivery.payload or {}).get("commitment_id")
        if delivery.kind != DeliveryKind.FOLLOWUP.value or commitment_id is None:
            return None
        return await session.get(Commitment, commitment_id)

    async def _close_commitment(
        self, session: AsyncSession, loaded: _Loaded, action: Action
    ) -> bool:
        commitment = await self._commitment_of(session, loaded.delivery)
        if commitment is None:
            return False
        if (
            loaded.delivery.outcome not in (None, *OPEN_COMMITMENT)
            or commitment.state not in OPEN_COMMITMENT
        ):
            return False
        state = CommitmentState.DONE if action is Action.FOLLOWUP_DONE else CommitmentState.DROPPED
        commitment.state = state.value
        loaded.delivery.outcome = state.value
        loaded.delivery.outcome_at = self.clock.now()
        return True

    async def on_form(
        self, actor: Actor, form_id: str, private_metadata: str, values: dict[str, str]
    ) -> ActionResult:
        """Apply a submitted form; field problems come back in ``errors`` by input id."""
        try:
            form = FormId(form_id)
        except ValueError:
            return ActionResult(notice=t("en", "messages.notice.unknown"))
        async with self.db.session() as session:
            loaded = await self._load(session, actor, private_metadata)
            if isinstance(loaded, ActionResult):
                return loaded
            errors: dict[str, str] = {}
            due = _parse_day(values.get(COMMITMENT_DUE, ""))
            if due is None or due < self._today(loaded):
                errors[COMMITMENT_DUE] = t(loaded.locale, "messages.notice.due_in_past")
            if form is FormId.NOTE_COMMITMENT:
                text = " ".join(values.get(COMMITMENT_TEXT, "").split())
                if not text or len(text) > MAX_COMMITMENT_CHARS:
                    errors[COMMITMENT_TEXT] = t(
                        loaded.locale, "messages.notice.empty_commitment", max=MAX_COMMITMENT_CHARS
                    )
                elif control_character(text) is not None:
                    errors[COMMITMENT_TEXT] = t(loaded.locale, "messages.notice.control_character")
                if errors or due is None:
                    return ActionResult(errors=errors)
                await self._save_commitment(session, loaded, text, due)
                await session.commit()
                return ActionResult(
                    notice=t(
                        loaded.locale,
                        "messages.notice.saved_commitment",
                        day=format_day(loaded.locale, due),
                    ),
                    changed=True,
                )
            if due is not None and due <= self._today(loaded) and not errors:
                # Asking again the same day would be noise; a move goes to a later day.
                errors[COMMITMENT_DUE] = t(loaded.locale, "messages.notice.move_later")
            if errors or due is None:
                return ActionResult(errors=errors)
            commitment = await self._commitment_of(session, loaded.delivery)
            if commitment is None:
                return ActionResult(notice=t(loaded.locale, "messages.notice.unknown"))
            # A form opened before Done or Drop must not bring a closed promise back.
            if commitment.state not in OPEN_COMMITMENT:
                return ActionResult(notice=t(loaded.locale, "messages.notice.closed"))
            changed = commitment.due_on != due or commitment.state != CommitmentState.MOVED.value
            if commitment.due_on != due:
                await self._cancel_pending_followups(session, commitment.id)
            commitment.due_on = due
            commitment.state = CommitmentState.MOVED.value
            loaded.delivery.outcome = CommitmentState.MOVED.value
            loaded.delivery.outcome_at = self.clock.now()
            await session.commit()
            delivery_id = loaded.delivery.id
            notice = moved_notice(loaded.locale, due)
        if changed:
            await self.dispatcher.update_message(delivery_id)
        return ActionResult(notice=notice, changed=changed)

    async def _cancel_pending_followups(self, session: AsyncSession, commitment_id: int) -> None:
        # The old day's "Did it happen?" must not go out once the promise has a new day.
        await session.execute(
            update(Delivery)
            .where(
                Delivery.kind == DeliveryKind.FOLLOWUP.value,
                Delivery.content_key == f"commitment:{commitment_id}",
                Delivery.status == DeliveryStatus.PENDING.value,
            )
            .values(status=DeliveryStatus.CANCELLED.value, last_error="the promise got a new day")
            .execution_options(synchronize_session=False)
        )

    async def _save_commitment(
        self, session: AsyncSession, loaded: _Loaded, text: str, due: date
    ) -> None:
        # One commitment per nudge: a second submission (a retry, a double click) edits it.
        existing = await session.scalar(
            select(Commitment).where(Commitment.source_delivery_id == loaded.delivery.id)
        )
        if existing is not None:
            if existing.due_on != due:
                await self._cancel_pending_followups(session, existing.id)
            existing.text = text
            existing.due_on = due
            return
        session.add(
            Commitment(
                workspace_id=loaded.workspace.id,
                manager_id=loaded.person.id,
                member_id=loaded.delivery.subject_id,
                text=text,
                due_on=due,
                source_delivery_id=loaded.delivery.id,
            )
        )


def _parse_day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None
