"""Register nudges and follow-ups with delivery: how they are planned and composed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.coaching.compose import followup_message, nudge_message
from nudges.coaching.plan_checks import is_plan, missed_its_slot, still_in_cadence
from nudges.coaching.plans import NudgePlanner
from nudges.content.catalogue import Catalogue
from nudges.delivery import Dispatcher, KindRules, NoHoldBack, Planned, idempotency_key
from nudges.domain import CommitmentState, DeliveryKind, NudgeState
from nudges.i18n import t
from nudges.messages import Message
from nudges.people import directory, workweeks
from nudges.pulse import digest as pulse_digest
from nudges.scheduling.calendar import NoAllowedDayError, next_allowed_moment
from nudges.store.commitments import Commitment
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace


def outcome_is_final(outcome: str | None) -> bool:
    """Tell whether a nudge's outcome can no longer change."""
    return outcome in {
        NudgeState.DONE.value,
        NudgeState.SKIPPED.value,
        NudgeState.NOT_RELEVANT.value,
    }


class NudgeHandler:
    """Render nudges (and test samples), with the pulse digest under the weekly nudge."""

    def __init__(self, catalogue: Catalogue, rules: KindRules, lookback: timedelta) -> None:
        self.catalogue = catalogue
        self.rules = rules
        self.lookback = lookback

    async def hold_back(
        self, session: AsyncSession, delivery: Delivery, now: datetime
    ) -> str | None:
        """Drop a plan whose slot passed unsent long ago, or that its cadence no longer has."""
        if missed_its_slot(delivery, now - self.lookback):
            return "planned for a slot that passed while nobody sent it"
        if is_plan(delivery) and not await still_in_cadence(session, delivery):
            return "the cadence changed after it was planned"
        return None

    async def compose(
        self,
        session: AsyncSession,
        delivery: Delivery,
        workspace: Workspace,
        person: Person,
        now: datetime,
    ) -> Message | None:
        """Render the nudge, or None when its content is gone from the catalogue."""
        locale = directory.locale_of(workspace, person)
        payload = delivery.payload or {}
        try:
            nudge = self.catalogue.nudge(delivery.content_key)
        except KeyError:
            return None
        reason_key = payload.get("reason_key")
        reason = t(locale, reason_key, **payload.get("reason_params", {})) if reason_key else ""
        snoozed = payload.get("snoozed_until")
        message = nudge_message(
            delivery_id=delivery.id,
            nudge=nudge,
            locale=locale,
            catalogue=self.catalogue,
            member=payload.get("member"),
            reason=reason,
            outcome=delivery.outcome,
            snoozed_until=date.fromisoformat(snoozed) if snoozed else None,
        )
        weekly = delivery.kind == DeliveryKind.NUDGE.value and "snooze_of" not in payload
        if weekly and not pulse_digest.digest_is_separate(workspace):
            section = await pulse_digest.digest_section(
                session, workspace, person, locale, now, self.catalogue
            )
            message = replace(message, blocks=(*message.blocks, *section))
        return message


class FollowupHandler(NoHoldBack):
    """Render "Did it happen?" for a commitment; it waits out a pause instead of lapsing."""

    rules = KindRules(budgeted=False, deferred_while_paused=True)

    async def compose(
        self,
        session: AsyncSession,
        delivery: Delivery,
        workspace: Workspace,
        person: Person,
        now: datetime,
    ) -> Message | None:
        """Render the follow-up, or None when its commitment is gone."""
        locale = directory.locale_of(workspace, person)
        commitment = await session.get(Commitment, (delivery.payload or {}).get("commitment_id"))
        if commitment is None:
            return None
        member = await session.get(Person, commitment.member_id) if commitment.member_id else None
        return followup_message(
            delivery_id=delivery.id,
            locale=locale,
            text=commitment.text,
            due_on=commitment.due_on,
            member=member.external_id if member else None,
            state=delivery.outcome or CommitmentState.OPEN.value,
        )


class FollowupPlanner:
    """Create "Did it happen?" deliveries for commitments due today or earlier."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    async def plan(self, session: AsyncSession, workspace: Workspace, now: datetime) -> Planned:
        """Plan one workspace's follow-ups."""
        planned = 0
        weeks = await workweeks.WorkweekBook.load(session, workspace)
        rows = (
            await session.execute(
                select(Commitment, Person)
                .join(Person, Person.id == Commitment.manager_id)
                .where(
                    Commitment.workspace_id == workspace.id,
                    Commitment.state.in_([CommitmentState.OPEN.value, CommitmentState.MOVED.value]),
                )
            )
        ).all()
        for commitment, manager in rows:
            if manager.opted_out or not manager.reachable:
                continue
            if commitment.due_on > directory.local_today(workspace, manager, now):
                continue
            key = idempotency_key(
                DeliveryKind.FOLLOWUP, manager.id, f"{commitment.id}:{commitment.due_on}"
            )
            avail = weeks.availability(manager)
            zone = directory.zone_of(workspace, manager)
            start = datetime.combine(commitment.due_on, avail.work_start, zone)
            try:
                when = next_allowed_moment(max(start, now.astimezone(zone)), avail)
            except NoAllowedDayError:
                continue
            new_id = await self.dispatcher.insert_delivery(
                session,
                idempotency_key=key,
                workspace_id=workspace.id,
                recipient_id=manager.id,
                kind=DeliveryKind.FOLLOWUP.value,
                content_key=f"commitment:{commitment.id}",
                period_key=commitment.due_on.isoformat(),
                subject_id=commitment.member_id,
                reason=t("en", "planner.reason.followup"),
                payload={"commitment_id": commitment.id},
                scheduled_at=when,
            )
            planned += new_id is not None
        return Planned(planned)


def register(dispatcher: Dispatcher, catalogue: Catalogue) -> None:
    """Teach ``dispatcher`` nudges, samples and follow-ups, and their planners."""
    dispatcher.register_kind(
        DeliveryKind.NUDGE.value,
        NudgeHandler(catalogue, KindRules(budgeted=True), dispatcher.config.lookback),
    )
    dispatcher.register_kind(
        DeliveryKind.SAMPLE.value,
        NudgeHandler(catalogue, KindRules(), dispatcher.config.lookback),
    )
    dispatcher.register_kind(DeliveryKind.FOLLOWUP.value, FollowupHandler())
    dispatcher.add_planner(NudgePlanner(dispatcher, catalogue))
    dispatcher.add_planner(FollowupPlanner(dispatcher))
