"""A poll that closes while one of its messages is still going out shows as closed there too."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from nudges.domain import DeliveryKind, DeliveryStatus
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from tests.nudges.pulse.world import answer_buttons, make_world, text_of


async def test_a_message_in_flight_when_its_poll_closes_is_re_rendered_once_sent(
    db: Database,
) -> None:
    world = await make_world(db)
    opened = await world.open_now()
    (poll,) = opened.polls
    await world.tick()
    late = world.polls_to("U1")[0]
    assert len(answer_buttons(late.message)) == 5
    async with db.session() as s:
        delivery = await s.scalar(
            select(Delivery).where(
                Delivery.kind == DeliveryKind.PULSE.value,
                Delivery.recipient_id == world.ids["U1"],
            )
        )
        assert delivery is not None
        # As if its send were still under way: composed with the buttons, not yet recorded.
        sent_ref, delivery.message_ref = delivery.message_ref, None
        delivery.status = DeliveryStatus.SENDING.value
        await s.commit()
        delivery_id = delivery.id
    world.clock.set(poll.closes_at + timedelta(minutes=1))
    await world.dispatcher.planning.plan()
    assert not late.updates, "a message whose send was not recorded cannot be re-rendered yet"
    # The send is recorded, as the lane does when the platform answers.
    async with db.session() as s:
        row = await s.get(Delivery, delivery_id)
        assert row is not None
        row.message_ref, row.status = sent_ref, DeliveryStatus.SENT.value
        await s.commit()
    await world.dispatcher.planning.refresh_sent()
    assert late.updates, "the poll closed while its message went out, and it still takes answers"
    assert answer_buttons(late.updates[-1]) == []
    assert "closed" in text_of(late.updates[-1])
    # Once only: the next tick has nothing left to re-render.
    await world.tick()
    assert len(late.updates) == 1
