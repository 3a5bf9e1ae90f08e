"""Remember reads for the length of one session that only reads what they read.

Planning a workspace asks for the same blackout days and cadence rules once per planner; a
session marked here answers the repeats from memory. Only sessions that do not change those
rows are marked (the dispatcher's planning pass), so nothing is ever served stale.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
_KEY = "nudgebot.read_once"


def mark(session: AsyncSession) -> None:
    """Let ``session`` remember the reads made through ``remembered``."""
    session.info[_KEY] = {}


async def remembered(session: AsyncSession, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
    """Return ``load()``'s answer, read once per marked session (every time otherwise)."""
    memo: dict[Hashable, Any] | None = session.info.get(_KEY)
    if memo is None:
        return await load()
    if key not in memo:
        memo[key] = await load()
    value: T = memo[key]
    return value
