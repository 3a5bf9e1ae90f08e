"""Send a sample nudge (``test``) or a manager's next nudge ahead of time (``send-now``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select

from nudges.coaching.inputs import planner_input
from nudges.coaching.planner import Choice, choose
from nudges.coaching.plans import choice_row
from nudges.commands import ast
from nudges.commands.context import REPLIES, Context, Outcome, Send, person_target
from nudges.commands.topics import echo
from nudges.commands.wording import moment_words, nudge_title
from nudges.commands.workweeks import off_now
from nudges.delivery import idempotency_key
from nudges.domain import DeliveryKind, DeliveryStatus
from nudges.i18n import format_moment, t
from nudges.people import directory, workweeks
from nudges.scheduling.calendar import NoAllowedDayError, next_occurrence
from nudges.store.deliveries import Delivery
from nudges.store.org import Person

SAMPLE_REASON = "planner.reason.sample"


def _check_recipient(ctx: Context, person: Person) -> None:
    """Fail when a message to ``person`` could not go out at all."""
    if person.opted_out:
        raise ctx.fail(_about_key(ctx, person, "send.opted_out"), person=person.external_id)
    if not person.reachable:
        raise ctx.fail(_about_key(ctx, person, "send.unreachable"), person=person.external_id)
    if ctx.workspace.platform not in ctx.dispatcher.messengers:
        raise ctx.fail("send.no_messenger", platform=echo(ctx.workspace.platform))


def _about_key(ctx: Context, person: Person, key: str) -> str:
    return f"{key}.you" if person.id == ctx.actor.id else f"{key}.person"


def _describe(ctx: Context, base: str, **params: object) -> Callable[[str, str | None], str]:
    """Turn the dispatcher's verdict on a send into a reply under ``base``."""
    # Read now, while the session is open; the send happens after the commit.
    locale, prefix = ctx.locale, ctx.prefix

    def describe(status: str, reason: str | None) -> str:
        bucket = {
            DeliveryStatus.SENT.value: "sent",
            "retry": "retry",
            DeliveryStatus.FAILED.value: "failed",
            DeliveryStatus.CANCELLED.value: "cancelled",
        }.get(status, "queued")
        return t(
            locale,
            f"{REPLIES}{base}.{bucket}",
            prefix=prefix,
            reason=echo(reason or "?"),
            **params,
        )

    return describe


async def _is_manager(ctx: Context, person: Person) -> bool:
    return any(m.id == person.id for m in await directory.managers(ctx.session, ctx.workspace.id))


async def sample(ctx: Context, command: ast.SampleNudge) -> Outcome:
    """Send the actor a sample nudge now, chosen as their real one would be when they manage."""
    me = ctx.actor
    _check_recipient(ctx, me)
    if not command.confirmed and (off := await off_now(ctx, me, "test")):
        return Outcome(off)
    choice: Choice | None = None
    if await _is_manager(ctx, me):
        inp = await planner_input(ctx.session, ctx.workspace, me, ctx.now)
        choice = choose(inp, ctx.catalogue, ctx.now)
    if choice is None:
        nudge = next(
            (n for n in ctx.catalogue.nudges if not n.needs_report and not n.programme_only),
            None,
        )
        if nudge is None:
            raise ctx.fail("test.nothing")
        choice = Choice(nudge.key, nudge.kind, None, None, SAMPLE_REASON, {})
    # Every request is its own delivery: asking twice sends two samples.
    key = idempotency_key(DeliveryKind.SAMPLE, me.id, f"test:{uuid.uuid4().hex}")
    delivery_id = await ctx.dispatcher.insert_delivery(
        ctx.session,
        **choice_row(
            key=key,
            kind=DeliveryKind.SAMPLE,
            workspace_id=ctx.workspace.id,
            recipient_id=me.id,
            choice=choice,
            scheduled_at=ctx.now,
            explicit=True,
        ),
    )
    if delivery_id is None:
        raise ctx.fail("send.busy")
    ctx.audit("nudge.test", person_target(me), delivery_id=delivery_id, nudge=choice.nudge_key)
    return Outcome("", send=Send(delivery_id, _describe(ctx, "test")))


async def send_now(ctx: Context, command: ast.SendNow) -> Outcome:
    """Send a manager's next scheduled nudge now, so the scheduled one does not go out again."""
    manager = await ctx.known(command.manager)
    _check_recipient(ctx, manager)
    if not command.confirmed and (off := await off_now(ctx, manager, "send_now")):
        return Outcome(off)
    spec, _source = await directory.effective_cadence(ctx.session, ctx.workspace, manager)
    availability = await workweeks.availability_of(ctx.session, ctx.workspace, manager)
    try:
        occurrence = next_occurrence(spec, availability, ctx.now)
    except NoAllowedDayError:
        raise ctx.fail("send_now.no_slot", person=manager.external_id) from None
    # The scheduled occurrence's own key: the ticker finds it taken and plans nothing more.
    key = idempotency_key(DeliveryKind.NUDGE, manager.id, occurrence.period_key)
    moment = moment_words(ctx.locale, occurrence)
    params = {"person": manager.external_id, "moment": moment}
    existing = await ctx.session.scalar(select(Delivery).where(Delivery.idempotency_key == key))
    if existing is not None:
        if existing.status == DeliveryStatus.SENT.value:
            sent = moment_of(ctx, manager, existing)
            return Outcome(ctx.say("send_now.already_sent", sent=sent, **params))
        if existing.status == DeliveryStatus.SENDING.value:
            return Outcome(ctx.say("send_now.sending", **params))
        # Planned, failed or held back earlier: an admin asking explicitly sends it anyway.
        existing.status = DeliveryStatus.PENDING.value
        existing.payload = {**(existing.payload or {}), "explicit": True}
        existing.next_attempt_at = ctx.now
        existing.attempts = 0
        existing.last_error = None
        existing.claimed_by = None
        existing.claimed_at = None
        await ctx.session.flush()
        ctx.audit("nudge.send_now", person_target(manager), delivery_id=existing.id, retried=True)
        title = nudge_title(ctx, existing.content_key)
        return Outcome(
            "", send=Send(existing.id, _describe(ctx, "send_now", title=title, **params))
        )
    inp = await planner_input(ctx.session, ctx.workspace, manager, ctx.now)
    choice = choose(inp, ctx.catalogue, ctx.now)
    if choice is None:
        raise ctx.fail("send_now.nothing_fits", person=manager.external_id)
    delivery_id = await ctx.dispatcher.insert_delivery(
        ctx.session,
        **choice_row(
            key=key,
            kind=DeliveryKind.NUDGE,
            workspace_id=ctx.workspace.id,
            recipient_id=manager.id,
            choice=choice,
            scheduled_at=ctx.now,
            period_key=occurrence.period_key,
            explicit=True,
        ),
    )
    if delivery_id is None:
        # Another request or a tick inserted it a moment ago.
        raise ctx.fail("send.busy")
    ctx.audit(
        "nudge.send_now",
        person_target(manager),
        delivery_id=delivery_id,
        nudge=choice.nudge_key,
        period=occurrence.period_key,
    )
    title = nudge_title(ctx, choice.nudge_key)
    return Outcome("", send=Send(delivery_id, _describe(ctx, "send_now", title=title, **params)))


def moment_of(ctx: Context, person: Person, delivery: Delivery) -> str:
    """Write when a delivery went out, in the recipient's zone."""
    when = delivery.sent_at or delivery.scheduled_at
    return format_moment(ctx.locale, when.astimezone(directory.zone_of(ctx.workspace, person)))
