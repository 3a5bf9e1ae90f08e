"""The retry policy and the background outcome writer, on their own."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

import pytest

from nudges.delivery.ground import EngineConfig, Ground
from nudges.delivery.outage import Outage
from nudges.delivery.outcomes import Outcome, OutcomeWriter, RetryPolicy, TickResult
from nudges.domain import DeliveryStatus
from nudges.ports import DeliveryError, FakeClock
from nudges.store.database import Database
from tests.nudges.delivery.test_outages import unreachable
from tests.nudges.delivery.world import NOW, LookingMessenger, make_dispatcher, rows, seed


def ground(db: Database, config: EngineConfig | None = None, seed_: int = 1) -> Ground:
    return Ground(db, FakeClock(NOW), {}, config or EngineConfig(), "w1", random.Random(seed_))


def test_the_backoff_doubles_per_attempt_with_jitter_and_stops_at_the_cap(db: Database) -> None:
    config = EngineConfig(backoff_base=timedelta(seconds=10), backoff_cap=timedelta(seconds=60))
    policy = RetryPolicy(ground(db, config))
    for attempts, base in ((1, 10), (2, 20), (3, 40), (4, 60), (9, 60)):
        for _ in range(20):
            wait = policy.backoff(attempts, None).total_seconds()
            assert base * 0.5 <= wait <= base * 1.5
    # A Retry-After longer than the back-off wins.
    assert policy.backoff(1, 300.0) == timedelta(seconds=300)


def test_a_retry_is_queued_until_the_attempts_run_out(db: Database) -> None:
    policy = RetryPolicy(ground(db, EngineConfig(max_attempts=3)))
    again = policy.retry(7, 2, "timeout", None)
    assert again.status == "retry" and again.values["status"] == DeliveryStatus.PENDING
    assert again.values["next_attempt_at"] > NOW
    given_up = policy.retry(7, 3, "timeout", None)
    assert given_up.status == DeliveryStatus.FAILED
    assert given_up.values["last_error"] == "gave up after 3 attempts: timeout"


def test_being_rate_limited_costs_no_attempt_and_waits_at_least_retry_after(db: Database) -> None:
    outcome = RetryPolicy(ground(db)).rate_limited(7, 2, 30.0)
    assert outcome.values["attempts"] == 1
    assert timedelta(seconds=30) <= outcome.values["next_attempt_at"] - NOW <= timedelta(seconds=45)


def test_only_a_recipient_problem_marks_the_recipient_unreachable(db: Database) -> None:
    policy = RetryPolicy(ground(db))
    gone = policy.permanent(7, 42, "T1", DeliveryError("user_not_found", permanent=True))
    assert gone.status == DeliveryStatus.FAILED and gone.unreachable == (42, "user_not_found")
    revoked = DeliveryError("token_revoked", permanent=True, scope="workspace")
    assert policy.permanent(7, 42, "T1", revoked).unreachable is None


def test_a_tick_result_counts_each_outcome_under_its_status() -> None:
    result = TickResult()
    for delivery_id, status in enumerate(["sent", "sent", "failed", "cancelled", "retry"]):
        result.count(delivery_id, status)
    assert (result.sent, result.failed, result.cancelled, result.deferred) == (2, 1, 1, 1)
    assert result.statuses[4] == "retry"


async def test_outcomes_are_held_while_the_database_is_away_and_written_once_back(
    db: Database, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    ids = await seed(db, {"T1": 3})
    claimer = make_dispatcher(db, FakeClock(NOW), LookingMessenger(), worker_id="w1")
    assert await claimer.claim() == ids
    outage = Outage()
    writer = OutcomeWriter(ground(unreachable(database_url)), outage)
    sent = Outcome(ids[0], "sent", {"status": "sent", "message_ref": "D|1"})
    with caplog.at_level(logging.ERROR):
        await writer.record([sent], [(ids[1], False), (ids[2], True)])
        await writer.flush()
    assert outage.down and len(writer.unrecorded) == 1 and len(writer.unreleased) == 2
    assert sum("database unreachable" in r.message for r in caplog.records) == 1
    await writer.ground.db.dispose()
    writer.ground.db = db
    await writer.flush()
    assert not outage.down and not writer.unrecorded and not writer.unreleased
    after = {r.id: r for r in await rows(db)}
    assert after[ids[0]].status == DeliveryStatus.SENT
    # Handed back untried: pending again and the attempt not counted.
    assert (after[ids[1]].status, after[ids[1]].attempts) == (DeliveryStatus.PENDING, 0)
    assert (after[ids[2]].status, after[ids[2]].claimed_by) == (DeliveryStatus.PENDING, None)


async def test_the_writer_only_touches_rows_this_worker_holds(db: Database) -> None:
    ids = await seed(db, {"T1": 1})
    other = make_dispatcher(db, FakeClock(NOW), LookingMessenger(), worker_id="someone-else")
    await other.claim()
    writer = OutcomeWriter(ground(db), Outage())
    await writer.record([Outcome(ids[0], "sent", {"status": "sent"})], [])
    assert [(r.status, r.claimed_by) for r in await rows(db)] == [
        (DeliveryStatus.SENDING, "someone-else")
    ]
