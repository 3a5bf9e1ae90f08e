from __future__ import annotations

import asyncio
from datetime import timedelta

from nudges.delivery import EngineConfig
from nudges.delivery.pacing import DEFAULT_START, Pacer
from nudges.domain import DeliveryStatus
from nudges.ports import DeliveryError, FakeClock
from nudges.store.database import Database
from tests.nudges.delivery.world import NOW, LookingMessenger, make_dispatcher, rows, seed


class Ticking:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _send_for_a_second(pacer: Pacer, clock: Ticking) -> None:
    for _ in range(10):
        pacer.on_success()
        clock.now += 0.1


def test_a_pacer_slows_and_pauses_for_retry_after_then_creeps_back_once_calm() -> None:
    clock = Ticking()
    pacer = Pacer(50.0, monotonic=clock)
    assert pacer.rate == DEFAULT_START and pacer.wait_time() == 0.0
    clock.now = -1.0
    _send_for_a_second(pacer, clock)
    clock.now = 0.0
    pacer.on_rate_limited(2.0)
    pacer.on_rate_limited(2.0)  # another send in flight met the same limit
    assert pacer.rate == DEFAULT_START * 0.85 and pacer.rate_limited == 2
    assert pacer.wait_time() >= 2.0
    clock.now = 2.0
    assert pacer.wait_time() == 0.0
    for second in (3, 4):
        clock.now = float(second)
        pacer.on_success()
        assert pacer.rate == DEFAULT_START * 0.85  # not yet calm for long enough
    clock.now = 5.0
    pacer.on_success()
    # Back towards the pace that met the limit, soon and quickly, but not up to it yet.
    assert DEFAULT_START * 0.85 < pacer.rate < DEFAULT_START * 0.95
    for second in range(6, 12):
        clock.now = float(second)
        pacer.on_success()
    assert pacer.rate == DEFAULT_START * 0.95  # beyond it only once calm for long
    for second in range(12, 33):
        clock.now = float(second)
        pacer.on_success()
    assert pacer.rate == DEFAULT_START * 0.95
    for second in range(33, 250):
        clock.now = float(second)
        pacer.on_success()
    assert pacer.rate == 50.0  # back up to the ceiling, never above


def test_a_pacer_never_goes_above_its_ceiling_or_below_its_floor() -> None:
    clock = Ticking()
    pacer = Pacer(5.0, start=50.0, monotonic=clock)
    assert pacer.rate == 5.0
    for _ in range(40):
        pacer.on_success()
        pacer.on_rate_limited(None)
        clock.now += 1.5
    assert pacer.rate == pacer.floor > 0


async def test_a_stopping_pacer_gives_no_token() -> None:
    pacer = Pacer(1.0)
    assert await pacer.acquire()
    assert not await pacer.acquire(lambda: True)


async def test_a_429_slows_the_workspace_waits_retry_after_and_posts_each_once(
    db: Database,
) -> None:
    ids = await seed(db, {"T1": 6})
    messenger = LookingMessenger()
    messenger.failures = [DeliveryError("ratelimited", permanent=False, retry_after=0.3)]
    config = EngineConfig(send_rate_per_workspace=50, max_in_flight=1)
    dispatcher = make_dispatcher(db, FakeClock(NOW), messenger, config)
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await dispatcher.tick()
    assert loop.time() - started >= 0.3  # Retry-After was honoured in place
    assert result.sent == len(ids)
    assert set(messenger.posts.values()) == {1} and len(messenger.posts) == len(ids)
    pacer = dispatcher.pacer((await rows(db))[0].workspace_id)
    # Refused before anything got through: paused, but no evidence the pace itself was too high.
    assert pacer.rate_limited == 1 and pacer.rate == DEFAULT_START
    assert {(r.status, r.attempts) for r in await rows(db)} == {(DeliveryStatus.SENT, 1)}


async def test_a_long_retry_after_puts_the_row_back_in_the_queue_for_that_long(
    db: Database,
) -> None:
    await seed(db, {"T1": 1})
    messenger = LookingMessenger()
    messenger.failures = [DeliveryError("ratelimited", permanent=False, retry_after=90)]
    clock = FakeClock(NOW)
    config = EngineConfig(send_rate_per_workspace=50, max_pause=0.01)
    result = await make_dispatcher(db, clock, messenger, config).tick()
    assert result.deferred == 1
    (row,) = await rows(db)
    assert row.status == DeliveryStatus.PENDING
    assert row.next_attempt_at >= NOW + timedelta(seconds=90)
    assert row.attempts == 0  # being refused for now is no failed attempt


def test_a_refusal_in_the_first_second_of_a_burst_pauses_but_does_not_cut() -> None:
    clock = Ticking()
    pacer = Pacer(50.0, monotonic=clock)
    clock.now = 40.0  # the slot comes long after the pacer was made
    for _ in range(5):
        pacer.on_success()
        clock.now += 0.05
    # The first sends bunched as every workspace's first chunk went out: a pause, no cut.
    pacer.on_rate_limited(1.0)
    assert pacer.rate == DEFAULT_START and pacer.wait_time() >= 0.9
    # Refused again after the pause, once sends had gone on for a second: now the pace is cut.
    clock.now += 1.0
    _send_for_a_second(pacer, clock)
    pacer.on_rate_limited(1.0)
    assert pacer.rate == DEFAULT_START * 0.85


def test_a_storm_that_refuses_everything_does_not_cut_the_pace_again_and_again() -> None:
    clock = Ticking()
    pacer = Pacer(50.0, monotonic=clock)
    _send_for_a_second(pacer, clock)
    pacer.on_rate_limited(1.0)
    for _ in range(20):  # nothing gets through: pause after pause, same pace
        clock.now += 1.1
        pacer.on_rate_limited(1.0)
    assert pacer.rate == DEFAULT_START * 0.85


def test_time_spent_idle_does_not_count_as_calm() -> None:
    clock = Ticking()
    pacer = Pacer(50.0, monotonic=clock)
    # Made when its lane first looked; the slot's first send comes forty seconds later.
    clock.now = 40.0
    pacer.on_success()
    assert pacer.rate == DEFAULT_START
    # Twenty-five seconds of sending, a slot's worth: no probe above where it started yet.
    for tenth in range(401, 651):
        clock.now = tenth / 10
        pacer.on_success()
    assert pacer.rate == DEFAULT_START
    # Sending on, calm, it creeps up a little a second.
    for tenth in range(651, 721):
        clock.now = tenth / 10
        pacer.on_success()
    assert DEFAULT_START < pacer.rate <= DEFAULT_START * 1.04, pacer.rate
