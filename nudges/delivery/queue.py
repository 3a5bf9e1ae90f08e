"""Read and add to the queue of delivery rows: idempotent inserts and what is due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.delivery.ground import PENDING, SENDING, Ground
from nudges.store.deliveries import Delivery
from nudges.store.org import Workspace


def _with_defaults(values: dict[str, Any], now: datetime) -> dict[str, Any]:
    values.setdefault("next_attempt_at", values["scheduled_at"])
    values.setdefault("status", PENDING)
    values.setdefault("attempts", 0)
    values.setdefault("payload", {})
    values.setdefault("reason", "")
    values.setdefault("content_key", "")
    values.setdefault("period_key", "")
    values.setdefault("created_at", now)
    return values


async def insert_delivery(session: AsyncSession, now: datetime, **values: Any) -> int | None:
    """Insert a delivery unless its idempotency key exists; return its id if inserted."""
    found = await insert_deliveries(session, now, [values])
    return found.get(values["idempotency_key"])


async def insert_deliveries(
    session: AsyncSession, now: datetime, rows: Sequence[dict[str, Any]]
) -> dict[str, int]:
    """Insert the deliveries whose keys do not exist yet, a hundred a statement; ids by key."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = Delivery.__table__
    assert isinstance(table, Table)
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        full = _with_defaults(dict(row), now)
        shapes.setdefault(tuple(sorted(full)), []).append(full)
    found: dict[str, int] = {}
    # One compiled statement per shape, run for many rows (the driver batches them), instead
    # of a statement per row or a new statement text per batch.
    stmt = (
        insert(table)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table.c.id, table.c.idempotency_key)
    )
    for same in shapes.values():
        result = await session.execute(stmt, same)
        found.update({key: new_id for new_id, key in result.all()})
    return found


async def existing_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """Return which of these idempotency keys already have a delivery."""
    found: set[str] = set()
    # Chunked so the IN list stays within every backend's parameter limit.
    for i in range(0, len(keys), 500):
        rows = await session.scalars(
            select(Delivery.idempotency_key).where(Delivery.idempotency_key.in_(keys[i : i + 500]))
        )
        found.update(rows.all())
    return found


async def due_workspaces(ground: Ground) -> list[int]:
    """Return the workspaces with deliveries due now, of the platforms this worker serves."""
    async with ground.db.session() as session:
        # Only workspaces of a platform this process serves: another platform's rows wait
        # for a process that has its messenger instead of burning their attempts here.
        rows = await session.scalars(
            select(Delivery.workspace_id)
            .join(Workspace, Workspace.id == Delivery.workspace_id)
            .where(
                Delivery.status == PENDING,
                Delivery.next_attempt_at <= ground.clock.now(),
                Workspace.platform.in_(ground.platforms()),
            )
            .distinct()
        )
        return list(rows.all())


async def next_due(ground: Ground) -> datetime | None:
    """Return when the earliest pending delivery this worker serves falls due, if any."""
    async with ground.db.session() as session:
        when: datetime | None = await session.scalar(
            select(func.min(Delivery.next_attempt_at))
            .join(Workspace, Workspace.id == Delivery.workspace_id)
            .where(Delivery.status == PENDING, Workspace.platform.in_(ground.platforms()))
        )
    return when


async def depth(ground: Ground) -> int:
    """Count the deliveries due and not yet sent (pending or being sent)."""
    async with ground.db.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(
                Delivery.status.in_([PENDING, SENDING]),
                Delivery.next_attempt_at <= ground.clock.now(),
            )
        )
    return int(count or 0)
