"""Tell a passing outage of the store (down, pool exhausted, locked) from a real failure."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

TRANSIENT: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    # The connection pool's "QueuePool limit ... timed out".
    sa_exc.TimeoutError,
    ConnectionError,
    TimeoutError,
    OSError,
)


def is_transient(exc: BaseException) -> bool:
    """Say whether ``exc`` (or what caused it) is an outage that trying again later may fix."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TRANSIENT):
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False
