from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from nudges.coaching.interactions import Actor, Interactions
from nudges.commands.service import CommandService
from nudges.content.catalogue import default_catalogue
from nudges.domain import CommitmentState, DeliveryKind, DeliveryStatus, NudgeState
from nudges.messages import COMMITMENT_DUE, COMMITMENT_TEXT, Action, Actions, Context, FormId
from nudges.ports import FakeClock
from nudges.services.dispatch import Dispatcher, EngineConfig
from nudges.store.commitments import Commitment
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Person
from tests.fakes.memory_messenger import InMemoryMessenger, Sent
from tests.nudges.orgs import make_org

TUESDAY_10_AMS = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
MGR = Actor("slack", "T1", "UMGR")


async def _sent_nudge(
    db: Database,
) -> tuple[Interactions, Dispatcher, InMemoryMessenger, FakeClock, Sent]:
    clock = FakeClock(TUESDAY_10_AMS)
    messenger = InMemoryMessenger()
    await make_org(db, created=TUESDAY_10_AMS - timedelta(days=1), managers={"UMGR": ["UA", "UB"]})
    dispatcher = Dispatcher(
        db,
        clock,
        default_catalogue(),
        {"slack": messenger},
        EngineConfig(send_rate_per_workspace=1000, initial_rate=1000),
        rng=random.Random(3),
    )
    await dispatcher.tick()
    (sent,) = messenger.sent
    return Interactions(dispatcher, dispatcher.catalogue), dispatcher, messenger, clock, sent


async def _delivery(db: Database, delivery_id: str) -> Delivery:
    async with db.session() as s:
        row = await s.get(Delivery, int(delivery_id))
        assert row is not None
        return row


async def test_double_click_on_done_changes_state_once(db: Database) -> None:
    interactions, _, _, _, sent = await _sent_nudge(db)
    did = sent.message.metadata["delivery_id"]
    first = await interactions.on_action(MGR, Action.NUDGE_DONE, did)
    second = await interactions.on_action(MGR, Action.NUDGE_DONE, did)
    assert first.changed and not second.changed
    assert (await _delivery(db, did)).outcome == NudgeState.DONE
    # The message was re-rendered once, showing the new state and no Done button any more.
    assert len(sent.updates) == 1
    blocks = sent.updates[0].blocks
    assert any(isinstance(b, Context) and b.text.startswith("✅") for b in blocks)
    buttons = [btn.action_id for b in blocks if isinstance(b, Actions) for btn in b.buttons]
    assert buttons == [Action.NUDGE_NOTE_COMMITMENT]
    # A later Skip cannot overwrite a final answer.
    assert not (await interactions.on_action(MGR, Action.NUDGE_SKIP, did)).changed
    assert second.message == first.message


async def test_the_last_click_wins_whichever_order_done_and_snooze_arrive_in(
    db: Database,
) -> None:
    interactions, _, _, _, sent = await _sent_nudge(db)
    did = sent.message.metadata["delivery_id"]
    # Done (clicked at 10.0) arrives first, then Snooze (clicked at 10.3) from a view that
    # still showed the buttons: the person's last click wins over the final Done.
    assert (await interactions.on_action(MGR, Action.NUDGE_DONE, did, 10.0)).changed
    assert (await interactions.on_action(MGR, Action.NUDGE_SNOOZE_TOMORROW, did, 10.3)).changed
    assert (await _delivery(db, did)).outcome == NudgeState.SNOOZED
    # An older click arriving late (another replica was slow) is dropped, showing nothing.
    late = await interactions.on_action(MGR, Action.NUDGE_DONE, did, 10.1)
    assert late.superseded and not late.changed and late.message is None
    assert (await _delivery(db, did)).outcome == NudgeState.SNOOZED
    # A click without a time cannot overturn a final outcome.
    assert (await interactions.on_action(MGR, Action.NUDGE_DONE, did, 10.5)).changed
    assert not (await interactions.on_action(MGR, Action.NUDGE_SKIP, did)).changed
    assert (await _delivery(db, did)).outcome == NudgeState.DONE


async def test_someone_else_cannot_click_my_nudge(db: Database) -> None:
    interactions, _, _, _, sent = await _sent_nudge(db)
    did = sent.message.metadata["delivery_id"]
    result = await interactions.on_action(Actor("slack", "T1", "UA"), Action.NUDGE_DONE, did)
    assert result.notice and "someone else" in result.notice
    assert (await _delivery(db, did)).outcome is None
    other_ws = await interactions.on_action(Actor("slack", "T2", "UMGR"), Action.NUDGE_DONE, did)
    assert other_ws.notice and "no longer known" in other_ws.notice
    junk = await interactions.on_action(MGR, Action.NUDGE_DONE, "not-a-number")
    assert junk.notice and not junk.changed


async def test_snooze_sends_again_tomorrow_and_done_cancels_the_copy(db: Database) -> None:
    interactions, dispatcher, messenger, clock, sent = await _sent_nudge(db)
    did = sent.message.metadata["delivery_id"]
    assert (await interactions.on_action(MGR, Action.NUDGE_SNOOZE_TOMORROW, did)).changed
    clock.advance(timedelta(days=1))
    await dispatcher.tick()
    assert len(messenger.sent) == 2
    assert messenger.sent[1].message.blocks[0] == sent.message.blocks[0]  # same nudge again
    # Snooze a second time from the copy's original, then answer: the pending copy goes away.
    assert (await interactions.on_action(MGR, Action.NUDGE_SNOOZE_WEEK, did)).changed
    async with db.session() as s:
        statuses = sorted((await s.scalars(select(Delivery.status))).all())
    assert statuses == [DeliveryStatus.PENDING, DeliveryStatus.SENT, DeliveryStatus.SENT]
    assert (await interactions.on_action(MGR, Action.NUDGE_DONE, did)).changed
    async with db.session() as s:
        statuses = sorted((await s.scalars(select(Delivery.status))).all())
    assert statuses == [DeliveryStatus.CANCELLED, DeliveryStatus.SENT, DeliveryStatus.SENT]


async def test_not_relevant_makes_that_kind_less_likely(db: Database) -> None:
    interactions, dispatcher, messenger, clock, sent = await _sent_nudge(db)
    did = sent.message.metadata["delivery_id"]
    first_kind = (await _delivery(db, did)).payload["kind"]
    await interactions.on_action(MGR, Action.NUDGE_NOT_RELEVANT, did)
    kinds = []
    for _ in range(6):
        clock.advance(timedelta(days=7))
        await dispatcher.tick()
        last = messenger.sent[-1].message.metadata["delivery_id"]
        kinds.append((await _delivery(db, last)).payload["kind"])
    assert first_kind not in kinds


async def test_note_commitment_validates_and_is_idempotent(db: Database) -> None:
    interactions, dispatcher, messenger, clock, sent = await _sent_nudge(db)
    did = sent.message.metadata["delivery_id"]
    opened = await interactions.on_action(MGR, Action.NUDGE_NOTE_COMMITMENT, did)
    assert opened.form is not None and opened.form.callback_id == FormId.NOTE_COMMITMENT
    bad = await interactions.on_form(
        MGR, FormId.NOTE_COMMITMENT, did, {COMMITMENT_TEXT: "  ", COMMITMENT_DUE: "2020-01-01"}
    )
    assert set(bad.errors) == {COMMITMENT_TEXT, COMMITMENT_DUE}
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Commitment)) == 0
    due = date(2026, 11, 27)
    values = {COMMITMENT_TEXT: "Send UA the onboarding notes", COMMITMENT_DUE: due.isoformat()}
    ok = await interactions.on_form(MGR, FormId.NOTE_COMMITMENT, did, values)
    again = await interactions.on_form(MGR, FormId.NOTE_COMMITMENT, did, values)
    assert ok.notice and "Friday 27 November" in ok.notice
    assert again.errors == {}
    async with db.session() as s:
        (commitment,) = (await s.scalars(select(Commitment))).all()
    assert commitment.member_id is not None  # the nudge's member

    # On the due day the follow-up arrives at 09:00; Move re-asks later, then Done closes it.
    clock.set(datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
    await dispatcher.tick()
    followup = messenger.sent[-1]
    fid = followup.message.metadata["delivery_id"]
    assert (await _delivery(db, fid)).kind == DeliveryKind.FOLLOWUP
    move = await interactions.on_action(MGR, Action.FOLLOWUP_MOVE, fid)
    assert move.form is not None
    moved = await interactions.on_form(
        MGR, FormId.MOVE_COMMITMENT, fid, {COMMITMENT_DUE: "2026-12-01"}
    )
    assert moved.notice and "1 December" in moved.notice
    clock.set(datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    await dispatcher.tick()
    second = messenger.sent[-1].message.metadata["delivery_id"]
    assert second != fid
    assert (await interactions.on_action(MGR, Action.FOLLOWUP_DONE, second)).changed
    assert not (await interactions.on_action(MGR, Action.FOLLOWUP_DROP, second)).changed
    async with db.session() as s:
        (commitment,) = (await s.scalars(select(Commitment))).all()
    assert commitment.state == CommitmentState.DONE


async def test_a_snoozed_send_now_nudge_waits_for_the_end_of_a_pause(db: Database) -> None:
    interactions, dispatcher, messenger, clock, sent = await _sent_nudge(db)
    did = sent.message.metadata["delivery_id"]
    async with db.session() as s:
        # What `send-now` stores: an explicit request that skips working hours and pauses.
        row = await s.get(Delivery, int(did))
        assert row is not None
        row.payload = {**row.payload, "explicit": True}
        await s.commit()
    assert (await interactions.on_action(MGR, Action.NUDGE_SNOOZE_TOMORROW, did)).changed
    async with db.session() as s:
        manager = await s.scalar(select(Person).where(Person.external_id == "UMGR"))
        assert manager is not None
        manager.paused_until = date(2026, 11, 30)
        await s.commit()
    clock.advance(timedelta(days=1))
    await dispatcher.tick()
    assert len(messenger.sent) == 1


async def test_snoozing_again_after_the_copy_went_out_sends_it_again(db: Database) -> None:
    interactions, dispatcher, messenger, clock, sent = await _sent_nudge(db)
    did = sent.message.metadata["delivery_id"]
    assert (await interactions.on_action(MGR, Action.NUDGE_SNOOZE_TOMORROW, did)).changed
    clock.advance(timedelta(days=1))
    await dispatcher.tick()
    assert len(messenger.sent) == 2
    # The original still offers Snooze; the manager uses it once more and is told "next week".
    again = await interactions.on_action(MGR, Action.NUDGE_SNOOZE_WEEK, did)
    assert again.changed
    assert (await _delivery(db, did)).payload["snoozed_until"] == "2026-12-02"
    clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    await dispatcher.tick()
    assert len(messenger.sent) == 3
    assert messenger.sent[2].message.blocks[0] == sent.message.blocks[0]


async def test_a_kept_promise_is_not_reopened_by_a_move_form_left_open(db: Database) -> None:
    interactions, dispatcher, messenger, clock, sent = await _sent_nudge(db)
    did = sent.message.metadata["delivery_id"]
    values = {COMMITMENT_TEXT: "Send UA the onboarding notes", COMMITMENT_DUE: "2026-11-27"}
    assert (await interactions.on_form(MGR, FormId.NOTE_COMMITMENT, did, values)).changed
    clock.set(datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
    await dispatcher.tick()
    fid = messenger.sent[-1].message.metadata["delivery_id"]
    # The manager opens Move, then (in another window) clicks Done, then submits the form.
    assert (await interactions.on_action(MGR, Action.FOLLOWUP_MOVE, fid)).form is not None
    assert (await interactions.on_action(MGR, Action.FOLLOWUP_DONE, fid)).changed
    late = await interactions.on_form(
        MGR, FormId.MOVE_COMMITMENT, fid, {COMMITMENT_DUE: "2026-12-04"}
    )
    assert not late.changed and late.notice
    reopen = await interactions.on_action(MGR, Action.FOLLOWUP_MOVE, fid)
    assert reopen.form is None and reopen.notice
    async with db.session() as s:
        (commitment,) = (await s.scalars(select(Commitment))).all()
    assert commitment.state == CommitmentState.DONE
    assert commitment.due_on == date(2026, 11, 27)
    assert (await _delivery(db, fid)).outcome == CommitmentState.DONE
    clock.set(datetime(2026, 12, 4, 8, 0, tzinfo=UTC))
    before = len(messenger.sent)
    await dispatcher.tick()
    assert not [m for m in messenger.sent[before:] if "Did it happen" in m.message.fallback]


async def test_snooze_until_tomorrow_on_an_evening_sample_means_tomorrow(db: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 18, 0, tzinfo=UTC))  # Monday 19:00 in Amsterdam
    messenger = InMemoryMessenger()
    await make_org(db, created=clock.now() - timedelta(days=1), managers={"UMGR": ["UA"]})
    dispatcher = Dispatcher(
        db, clock, default_catalogue(), {"slack": messenger}, EngineConfig(), rng=random.Random(3)
    )
    reply = await CommandService(dispatcher).run(
        MGR, "test confirm", prefix="/nudges ", is_platform_admin=True
    )
    assert reply.ok
    (sent,) = messenger.sent
    did = sent.message.metadata["delivery_id"]
    assert (
        await Interactions(dispatcher, dispatcher.catalogue).on_action(
            MGR, Action.NUDGE_SNOOZE_TOMORROW, did
        )
    ).changed
    assert (await _delivery(db, did)).payload["snoozed_until"] == "2026-11-24"


async def test_a_promise_given_a_new_day_is_asked_about_once_on_that_day(db: Database) -> None:
    interactions, dispatcher, messenger, clock, sent = await _sent_nudge(db)
    did = sent.message.metadata["delivery_id"]
    note = {COMMITMENT_TEXT: "Send UA the notes", COMMITMENT_DUE: "2026-11-26"}
    assert (await interactions.on_form(MGR, FormId.NOTE_COMMITMENT, did, note)).errors == {}
    # Thursday 08:00 UTC = 09:00 Amsterdam, the follow-up's slot: planned and due.
    clock.set(datetime(2026, 11, 26, 7, 30, tzinfo=UTC))
    await dispatcher.tick()  # planned for 09:00, still pending
    assert len(messenger.sent) == 1
    # Before it goes out, the manager gives the promise a new day.
    later = {**note, COMMITMENT_DUE: "2026-11-27"}
    assert (await interactions.on_form(MGR, FormId.NOTE_COMMITMENT, did, later)).errors == {}
    clock.set(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    await dispatcher.tick()
    assert len(messenger.sent) == 1  # the old day's follow-up was cancelled
    clock.set(datetime(2026, 11, 27, 8, 0, tzinfo=UTC))
    await dispatcher.tick()
    assert len(messenger.sent) == 2
    async with db.session() as s:
        followups = (
            await s.scalars(select(Delivery).where(Delivery.kind == DeliveryKind.FOLLOWUP))
        ).all()
    assert sorted(f.status for f in followups) == [DeliveryStatus.CANCELLED, DeliveryStatus.SENT]

    # Moving must go to a later day: "today" would only ask again at once.
    fid = messenger.sent[-1].message.metadata["delivery_id"]
    today = await interactions.on_form(
        MGR, FormId.MOVE_COMMITMENT, fid, {COMMITMENT_DUE: "2026-11-27"}
    )
    assert today.errors and "after today" in today.errors[COMMITMENT_DUE]
