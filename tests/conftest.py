"""Provide a real database to every test: SQLite, or PostgreSQL when NUDGEBOT_TEST_DB=postgres."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from nudges.store.database import Database
from nudges.store.migrate import upgrade
from nudges.store.models import metadata

BACKEND = os.environ.get("NUDGEBOT_TEST_DB", "sqlite")
BASE_PG_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
# Under pytest-xdist each worker gets a database of its own, so workers never share tables.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
PG_URL = (
    make_url(BASE_PG_URL)
    .set(database=f"{make_url(BASE_PG_URL).database}_{WORKER}")
    .render_as_string(hide_password=False)
    if WORKER
    else BASE_PG_URL
)

if BACKEND not in {"sqlite", "postgres"}:
    raise pytest.UsageError(f"NUDGEBOT_TEST_DB must be sqlite or postgres, not {BACKEND!r}")


def pytest_report_header() -> str:
    """Say which database the run uses, so a log shows it at a glance."""
    where = f" ({BASE_PG_URL}, one database per worker)" if BACKEND == "postgres" else ""
    return f"nudgebot test database: {BACKEND}{where}"


# The fixtures through which a test reaches the database under test; a test without any of
# them runs the same whichever database was chosen.
DATABASE_FIXTURES = frozenset({"db", "database_url", "empty_database_url"})


def pytest_addoption(parser: pytest.Parser) -> None:
    """Offer a run of only the tests whose outcome can depend on the database."""
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="run only tests that use the database under test (the rest were run on SQLite)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip PostgreSQL-only tests on SQLite, saying why; narrow a second pass to database tests."""
    if config.getoption("--database-tests-only"):
        chosen: list[pytest.Item] = []
        rest: list[pytest.Item] = []
        for item in items:
            uses_db = DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
            (chosen if uses_db or "postgres_only" in item.keywords else rest).append(item)
        if rest:
            config.hook.pytest_deselected(items=rest)
            items[:] = chosen
    if BACKEND == "postgres":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (run with NUDGEBOT_TEST_DB=postgres)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


async def _admin(statement: str, **params: str) -> object:
    """Run one statement on the maintenance database, outside a transaction."""
    engine = create_async_engine(
        make_url(BASE_PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        async with engine.connect() as conn:
            result = await conn.execute(text(statement), params)
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


async def _ensure_database(url: str) -> None:
    name = make_url(url).database
    if not await _admin("SELECT 1 FROM pg_database WHERE datname = :name", name=name or ""):
        await _admin(f'CREATE DATABASE "{name}"')
    # A test database needs no durability: a commit need not wait for the disk.
    await _admin(f'ALTER DATABASE "{name}" SET synchronous_commit = off')


async def _reset_postgres(url: str) -> None:
    await _ensure_database(url)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db.engine)
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the URL of a database migrated to head, fresh for this test session."""
    if BACKEND == "postgres":
        asyncio.run(_reset_postgres(PG_URL))
        url = PG_URL
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'nudgebot.sqlite3'}"
    asyncio.run(_migrate(url))
    return url


async def _clear(db: Database) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    async with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            # TRUNCATE costs about the same for an empty table as for a full one, and a test
            # fills only a few: empty just those, and restart every id sequence in one go.
            probe = " UNION ALL ".join(
                f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in tables
            )
            # A scheduler lock left behind by an earlier test's process or ticker would keep
            # this test's ticker on standby: end the sessions that hold one.
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND pid <> pg_backend_pid() AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            )
            used = list((await conn.execute(text(probe))).scalars())
            if used:
                await conn.execute(text(f"TRUNCATE {', '.join(used)} CASCADE"))
            await conn.execute(
                text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'")
            )
        else:
            for name in tables:
                await conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """Hand a test an empty, migrated database."""
    database = Database(database_url)
    await _clear(database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """Create a database with no schema at all, dropped again afterwards."""
    if BACKEND == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    name = f"nudgebot_empty_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
