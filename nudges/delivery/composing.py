"""Turn a claimed batch into messages: load it, check each row, compose what may go.

A batch is read in one transaction; what will not go is settled, and the ``send_started_at``
of what will is committed before any of it reaches the platform.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.delivery import metrics
from nudges.delivery.context import current_delivery
from nudges.delivery.ground import FAILED, SENDING, Ground
from nudges.delivery.holdbacks import HoldBacks, sent_this_week
from nudges.delivery.kinds import KindHandler
from nudges.delivery.outcomes import Outcome, OutcomeWriter, RetryPolicy, TickResult
from nudges.messages import Message
from nudges.ports import Recipient
from nudges.store import read_once
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace

logger = logging.getLogger(__name__)

# Messages composed between two looks at the event loop (see ``Composer.compose_batch``).
COMPOSE_SLICE = 4

# An outcome settled while composing, with its platform and kind (for the metrics).
Settled = tuple[Outcome, str, str]


@dataclass
class Job:
    """A claimed delivery, composed and ready for the platform."""

    delivery_id: int
    kind: str
    recipient: Recipient
    person_id: int
    message: Message
    attempts: int
    # An earlier attempt may have reached the platform: look before posting.
    in_doubt: bool


class Composer:
    """Compose claimed deliveries through their kinds' handlers, after the shared checks."""

    def __init__(
        self,
        ground: Ground,
        handlers: Mapping[str, KindHandler],
        policy: RetryPolicy,
        writer: OutcomeWriter,
    ) -> None:
        self.ground = ground
        self.handlers = handlers
        self.hold_backs = HoldBacks(handlers)
        self.policy = policy
        self.writer = writer

    async def compose(
        self, session: AsyncSession, delivery: Delivery, workspace: Workspace, person: Person
    ) -> Message | None:
        """Render a delivery for its recipient, or None when it can no longer be rendered."""
        handler = self.handlers.get(delivery.kind)
        if handler is None:
            return None
        return await handler.compose(session, delivery, workspace, person, self.ground.clock.now())

    async def prepare(self, ids: Sequence[int], result: TickResult) -> list[Job]:
        """Load, check and compose a claimed batch, then say its sends started; return the jobs."""
        jobs, settled = await self.compose_batch(ids, result)
        await self.start(jobs, settled, result)
        return jobs

    async def compose_batch(
        self, ids: Sequence[int], result: TickResult
    ) -> tuple[list[Job], list[Settled]]:
        """Load, check and compose a claimed batch in one read transaction.

        Returns the jobs to send and the outcomes of those that will not go (with their
        platform and kind), still to be written.
        """
        now = self.ground.clock.now()
        jobs: list[Job] = []
        settled: list[Settled] = []
        async with self.ground.db.session() as session:
            # Only reads: each workspace's blackout days are read once for the whole batch.
            read_once.mark(session)
            deliveries = list(
                (
                    await session.scalars(
                        select(Delivery)
                        .where(
                            Delivery.id.in_(list(ids)),
                            Delivery.status == SENDING,
                            Delivery.claimed_by == self.ground.worker_id,
                        )
                        .order_by(Delivery.id)
                    )
                ).all()
            )
            for missing in set(ids) - {d.id for d in deliveries}:
                result.count(missing, "not-ours")
            people = {
                p.id: p
                for p in (
                    await session.scalars(
                        select(Person).where(Person.id.in_({d.recipient_id for d in deliveries}))
                    )
                ).all()
            }
            workspaces = {
                w.id: w
                for w in (
                    await session.scalars(
                        select(Workspace).where(
                            Workspace.id.in_({d.workspace_id for d in deliveries})
                        )
                    )
                ).all()
            }
            counts: dict[int, int] = {}
            for workspace in workspaces.values():
                counts.update(
                    await sent_this_week(
                        session,
                        workspace,
                        [p for p in people.values() if p.workspace_id == workspace.id],
                        now,
                    )
                )
            for number, delivery in enumerate(deliveries, 1):
                if number % COMPOSE_SLICE == 0:
                    # Composing a chunk is CPU work that never waits: let the sends that are due
                    # go out meanwhile, or they leave late and reach the platform bunched.
                    await asyncio.sleep(0)
                token = current_delivery.set(delivery.id)
                try:
                    person = people[delivery.recipient_id]
                    workspace = workspaces[delivery.workspace_id]
                    outcome, job = await self._check_and_compose(
                        session, delivery, workspace, person, now, counts
                    )
                except Exception as exc:
                    logger.exception("delivery %s could not be prepared", delivery.id)
                    outcome, job = (
                        self.policy.retry(
                            delivery.id, delivery.attempts, f"unexpected: {exc}", None
                        ),
                        None,
                    )
                finally:
                    current_delivery.reset(token)
                if job is not None:
                    jobs.append(job)
                elif outcome is not None:
                    platform = workspaces[delivery.workspace_id].platform
                    settled.append((outcome, platform, delivery.kind))
            # Reads end here: on SQLite a transaction that read and then writes fails at once
            # when another writer committed meanwhile, so the writes get a transaction of their own.
            await session.commit()
        return jobs, settled

    async def start(
        self, jobs: Sequence[Job], settled: Sequence[Settled], result: TickResult
    ) -> None:
        """Write what will not go, and commit ``send_started_at`` of the jobs before any send."""
        ground = self.ground
        if jobs or settled:
            async with ground.writing(), ground.db.session() as session:
                await self.writer.write(session, [outcome for outcome, _, _ in settled])
                if jobs:
                    # From here on a lapsed claim is in doubt.
                    await session.execute(
                        update(Delivery)
                        .where(
                            Delivery.id.in_([job.delivery_id for job in jobs]),
                            Delivery.claimed_by == ground.worker_id,
                        )
                        .values(send_started_at=ground.clock.now())
                        .execution_options(synchronize_session=False)
                    )
                await session.commit()
        for outcome, platform, kind in settled:
            result.count(outcome.delivery_id, outcome.status)
            metrics.DELIVERIES.labels(platform, kind, outcome.status).inc()

    async def _check_and_compose(
        self,
        session: AsyncSession,
        delivery: Delivery,
        workspace: Workspace,
        person: Person,
        now: datetime,
        counts: MutableMapping[int, int],
    ) -> tuple[Outcome | None, Job | None]:
        verdict = await self.hold_backs.verdict(session, delivery, workspace, person, now, counts)
        if verdict is not None:
            status, reason, when = verdict
            values: dict[str, Any] = {"status": status, "last_error": reason}
            if when is not None:
                # Waiting for working time is not a failed attempt.
                values.update(next_attempt_at=when, attempts=delivery.attempts - 1)
            logger.info("delivery %s held back (%s): %s", delivery.id, status, reason)
            return Outcome(delivery.id, status, values), None
        message = await self.compose(session, delivery, workspace, person)
        if message is None:
            logger.warning("delivery %s failed: its content no longer exists", delivery.id)
            return Outcome(
                delivery.id, FAILED, {"status": FAILED, "last_error": "content no longer exists"}
            ), None
        recipient = Recipient(workspace.platform, workspace.external_id, person.external_id)
        return None, Job(
            delivery_id=delivery.id,
            kind=delivery.kind,
            recipient=recipient,
            person_id=person.id,
            message=message,
            attempts=delivery.attempts,
            in_doubt=delivery.send_started_at is not None,
        )
