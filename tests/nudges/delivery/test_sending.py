"""Sending one job: every answer of the platform becomes an outcome, nothing raises."""

from __future__ import annotations

import random

from nudges.delivery.composing import Job
from nudges.delivery.ground import EngineConfig, Ground
from nudges.delivery.outcomes import RetryPolicy
from nudges.delivery.pacing import Pacer
from nudges.delivery.sending import Sender
from nudges.domain import DeliveryStatus
from nudges.messages import Message, Text
from nudges.ports import DeliveryError, FakeClock, Recipient
from nudges.store.database import Database
from tests.nudges.delivery.world import NOW, LookingMessenger

JOB = Job(
    delivery_id=7,
    kind="ping",
    recipient=Recipient("slack", "T1", "U1"),
    person_id=42,
    message=Message(fallback="ping", blocks=(Text("ping"),), metadata={"delivery_id": "7"}),
    attempts=1,
    in_doubt=False,
)


def sender(db: Database, messenger: LookingMessenger | None) -> Sender:
    messengers = {"slack": messenger} if messenger is not None else {}
    config = EngineConfig(rate_limit_wait=1.0, rate_limit_retries=2)
    ground = Ground(db, FakeClock(NOW), messengers, config, "w1", random.Random(1))  # type: ignore[arg-type]
    return Sender(ground, RetryPolicy(ground))


async def test_a_post_is_sent_and_its_reference_kept(db: Database) -> None:
    messenger = LookingMessenger()
    outcome = await sender(db, messenger).send(JOB, Pacer(1000.0, start=1000.0))
    assert outcome.status == DeliveryStatus.SENT
    assert outcome.values["message_ref"].endswith("7.000") and outcome.values["sent_at"] == NOW
    assert messenger.calls == [("7", False)]


async def test_a_short_too_many_is_waited_out_in_place_and_slows_the_pace(db: Database) -> None:
    messenger = LookingMessenger()
    messenger.failures = [DeliveryError("ratelimited", permanent=False, retry_after=0.05)]
    pacer = Pacer(1000.0, start=1000.0)
    outcome = await sender(db, messenger).send(JOB, pacer)
    assert outcome.status == DeliveryStatus.SENT and len(messenger.calls) == 2
    assert pacer.rate_limited == 1


async def test_a_long_too_many_goes_back_to_the_queue_without_costing_an_attempt(
    db: Database,
) -> None:
    messenger = LookingMessenger()
    messenger.failures = [DeliveryError("ratelimited", permanent=False, retry_after=30.0)]
    outcome = await sender(db, messenger).send(JOB, Pacer(1000.0, start=1000.0))
    assert outcome.status == "retry" and outcome.values["attempts"] == 0
    assert len(messenger.calls) == 1


async def test_failures_become_retries_or_final_failures(db: Database) -> None:
    messenger = LookingMessenger()
    messenger.failures = [DeliveryError("timeout", permanent=False)]
    retry = await sender(db, messenger).send(JOB, Pacer(1000.0, start=1000.0))
    assert retry.status == "retry" and retry.values["last_error"] == "timeout"
    messenger.failures = [DeliveryError("user_not_found", permanent=True)]
    gone = await sender(db, messenger).send(JOB, Pacer(1000.0, start=1000.0))
    assert gone.status == DeliveryStatus.FAILED and gone.unreachable == (42, "user_not_found")
    missing = await sender(db, None).send(JOB, Pacer(1000.0, start=1000.0))
    assert missing.status == "retry" and "not enabled" in missing.values["last_error"]
