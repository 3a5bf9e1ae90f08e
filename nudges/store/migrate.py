"""Bring the schema to head with Alembic and tell whether it is there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine


def _script_location() -> Path:
    # Imported lazily: the migrations package imports the models, which import this package.
    import migrations

    return Path(migrations.__file__).parent


def alembic_config(url: str | None = None) -> Config:
    """Build an Alembic config that finds ``migrations/`` wherever the package is installed."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_script_location()))
    if url:
        # ConfigParser interpolation would choke on a password containing '%'.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """Return the newest revision id shipped with this version."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _run_with_connection(connection: Connection, action: str, target: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(cfg, target)
    else:
        command.downgrade(cfg, target)


async def upgrade(engine: AsyncEngine, target: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``target``."""
    async with engine.begin() as conn:
        await conn.run_sync(_run_with_connection, "upgrade", target)


async def downgrade(engine: AsyncEngine, target: str = "base") -> None:
    """Downgrade the database behind ``engine`` to ``target``."""
    async with engine.begin() as conn:
        await conn.run_sync(_run_with_connection, "downgrade", target)


def _current(connection: Connection) -> Any:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    """Return the revision the database is at, or None when it has no schema yet."""
    async with engine.connect() as conn:
        revision = await conn.run_sync(_current)
    return str(revision) if revision else None


async def is_at_head(engine: AsyncEngine) -> bool:
    """Tell whether the database schema matches this version's migrations."""
    return await current_revision(engine) == head_revision()
