"""Create the async engine and sessions for SQLite or PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_DRIVER = "sqlite+aiosqlite"
POSTGRES_DRIVER = "postgresql+asyncpg"


class DatabaseUrlError(ValueError):
    """Raised for a database URL this service cannot use."""


def normalize_url(raw: str) -> URL:
    """Map common spellings (``postgres://``, ``sqlite:///``) onto the async drivers we ship."""
    try:
        url = make_url(raw)
    except Exception as exc:
        raise DatabaseUrlError(f"not a database URL: {exc}") from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername=SQLITE_DRIVER)
    if backend in {"postgres", "postgresql"}:
        return url.set(drivername=POSTGRES_DRIVER)
    raise DatabaseUrlError(f"unsupported database {backend!r}: use sqlite or postgresql")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite leaves foreign keys off by default; WAL lets readers proceed while the ticker writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_engine(raw_url: str, **kwargs: Any) -> AsyncEngine:
    """Create an async engine, making the SQLite file's folder when needed."""
    url = normalize_url(raw_url)
    # Statement parameters hold answers and typed text: keep them out of errors and echo logs.
    kwargs.setdefault("hide_parameters", True)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # Every workspace sends concurrently, each lane holding a connection now and then.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    return create_async_engine(url, **kwargs)


def is_sqlite(engine: AsyncEngine) -> bool:
    """Tell whether the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


class Database:
    """Own one engine and hand out sessions."""

    def __init__(self, raw_url: str, **engine_kwargs: Any) -> None:
        self.url = normalize_url(raw_url)
        self.engine = create_engine(raw_url, **engine_kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> AsyncSession:
        """Open a new session (use as ``async with db.session() as s``)."""
        return self.sessions()

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
