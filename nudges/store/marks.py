"""Take and move short shared marks (``edge_marks``): one statement each, atomic on both backends.

A mark is a key and a moment. ``claim`` takes it when it is free (absent, or its moment is
before a given one), so of several replicas asking at once exactly one gets it; ``advance``
moves it later, never earlier. Marks long past are swept now and then.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.store.shared import Mark

# Marks this far past their moment are deleted, once in SWEEP_ONE_IN writes.
KEEP_PAST = timedelta(days=1)
SWEEP_ONE_IN = 200


def _insert(session: AsyncSession, key: str, until: datetime) -> Any:
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(Mark).values(key=key, until=until)


def about(kind: str, platform: str, workspace: str, user: str) -> str:
    """Name the mark ``kind`` of one person; every such key ends in what ``forget`` matches."""
    return f"{kind}:{platform}:{workspace}:{user}"


async def forget(session: AsyncSession, platform: str, workspace: str, user: str) -> int:
    """Delete every mark of one person (their erasure); return how many."""
    gone = await session.execute(
        delete(Mark)
        .where(Mark.key.endswith(f":{platform}:{workspace}:{user}", autoescape=True))
        .execution_options(synchronize_session=False)
    )
    return max(int(getattr(gone, "rowcount", 0) or 0), 0)


async def claim(session: AsyncSession, key: str, until: datetime, free_before: datetime) -> bool:
    """Set ``key`` to ``until`` if it is absent or set before ``free_before``; say if it was."""
    await _sweep(session, free_before)
    stmt = _insert(session, key, until)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Mark.key],
        set_={"until": stmt.excluded.until},
        where=Mark.until < free_before,
    ).returning(Mark.key)
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def advance(session: AsyncSession, key: str, until: datetime) -> None:
    """Set ``key`` to ``until`` unless it is already later."""
    stmt = _insert(session, key, until)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Mark.key],
        set_={"until": stmt.excluded.until},
        where=Mark.until < stmt.excluded.until,
    )
    await session.execute(stmt)


async def read(session: AsyncSession, key: str) -> datetime | None:
    """Return the moment of ``key``, or None when it is not set."""
    found: datetime | None = await session.scalar(select(Mark.until).where(Mark.key == key))
    return found


async def _sweep(session: AsyncSession, now: datetime) -> None:
    if random.randrange(SWEEP_ONE_IN) == 0:
        await session.execute(delete(Mark).where(Mark.until < now - KEEP_PAST))
