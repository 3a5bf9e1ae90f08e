"""A kind-neutral delivery world: a "ping" kind, seeded rows and a messenger that can look back."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.delivery import Dispatcher, EngineConfig, KindRules
from nudges.messages import Message, Text
from nudges.ports import DeliveryError, FakeClock, MessageRef, Recipient
from nudges.store.database import Database
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PING = "ping"
CONFIG = EngineConfig(send_rate_per_workspace=1000, initial_rate=1000, lease=timedelta(seconds=20))


class PingHandler:
    """Compose a one-line message carrying its delivery id; never hold anything back."""

    rules = KindRules()

    async def hold_back(self, session: AsyncSession, delivery: Delivery, now: datetime) -> None:
        return None

    async def compose(
        self,
        session: AsyncSession,
        delivery: Delivery,
        workspace: Workspace,
        person: Person,
        now: datetime,
    ) -> Message:
        return Message(
            fallback="ping",
            blocks=(Text("ping"),),
            metadata={"delivery_id": str(delivery.id)},
        )


class LookingMessenger:
    """Post into per-delivery counters; on a retry, look for the earlier post first (as Slack's
    messenger does with the DM history)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.posts: Counter[str] = Counter()
        self.calls: list[tuple[str, bool]] = []
        self.failures: list[DeliveryError] = []
        # After posting this many, hang instead of answering (the process dies meanwhile).
        self.hang_after: int | None = None
        self.posted = asyncio.Event()

    async def send(
        self, recipient: Recipient, message: Message, *, retry: bool = False
    ) -> MessageRef:
        delivery_id = message.metadata["delivery_id"]
        self.calls.append((delivery_id, retry))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures:
            raise self.failures.pop(0)
        if retry and self.posts[delivery_id]:
            return MessageRef(f"D-{recipient.user_external_id}", f"{delivery_id}.found")
        self.posts[delivery_id] += 1
        self.posted.set()
        if self.hang_after is not None and sum(self.posts.values()) >= self.hang_after:
            await asyncio.Event().wait()
        return MessageRef(f"D-{recipient.user_external_id}", f"{delivery_id}.000")

    async def update(self, recipient: Recipient, ref: MessageRef, message: Message) -> None:
        return None


def make_dispatcher(
    db: Database,
    clock: FakeClock,
    messenger: LookingMessenger,
    config: EngineConfig = CONFIG,
    worker_id: str | None = None,
) -> Dispatcher:
    dispatcher = Dispatcher(db, clock, {"slack": messenger}, config, worker_id=worker_id)
    dispatcher.register_kind(PING, PingHandler())
    return dispatcher


async def seed(db: Database, per_workspace: dict[str, int]) -> list[int]:
    """Create due explicit pings, workspace after workspace, so ids are contiguous per workspace."""
    ids: list[int] = []
    async with db.session() as s:
        for team, count in per_workspace.items():
            ws = Workspace(
                platform="slack",
                external_id=team,
                country="NL",
                default_timezone="Europe/Amsterdam",
                created_at=NOW,
            )
            s.add(ws)
            await s.flush()
            people = [
                Person(workspace_id=ws.id, external_id=f"{team}-U{i}", created_at=NOW)
                for i in range(count)
            ]
            s.add_all(people)
            await s.flush()
            for person in people:
                row = Delivery(
                    idempotency_key=f"{PING}:{person.id}:1",
                    workspace_id=ws.id,
                    recipient_id=person.id,
                    kind=PING,
                    payload={"explicit": True},
                    scheduled_at=NOW - timedelta(minutes=1),
                    next_attempt_at=NOW - timedelta(minutes=1),
                    created_at=NOW,
                )
                s.add(row)
                await s.flush()
                ids.append(row.id)
        await s.commit()
    return ids


async def rows(db: Database) -> list[Delivery]:
    async with db.session() as s:
        return list((await s.scalars(select(Delivery).order_by(Delivery.id))).all())
