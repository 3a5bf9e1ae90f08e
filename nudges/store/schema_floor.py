"""Keep, beside the schema, the oldest release that still runs on it (expand–contract).

A revision that only adds (a table, a nullable column, an index) says ``expand_only = True``:
the release before it keeps working on the new schema. A revision that drops or renames what
an earlier release uses (the contract step) leaves it out. `migrate` writes the result here, so
a release whose code is older than the schema (a rolling upgrade, or a roll-back of the code)
can tell from the database alone whether it may run, without knowing the newer revisions.
"""

from __future__ import annotations

from datetime import datetime

from alembic.script import ScriptDirectory
from sqlalchemy import String, delete, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from nudges.store.base import Base, UTCDateTime, utcnow


class SchemaFloor(Base):
    """The schema's head and the oldest code revision that runs on it."""

    __tablename__ = "schema_floor"

    head: Mapped[str] = mapped_column(String(64), primary_key=True)
    oldest_code: Mapped[str] = mapped_column(String(64))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def oldest_code(script: ScriptDirectory, head: str) -> str:
    """Return the oldest code revision that runs on ``head``: back over expand-only revisions."""
    oldest = head
    for revision in script.iterate_revisions(head, "base"):
        if not getattr(revision.module, "expand_only", False):
            break
        down = revision.down_revision
        if not isinstance(down, str):
            # The first revision, or a merge: nothing older to vouch for.
            break
        oldest = down
    return oldest


def record(connection: Connection, script: ScriptDirectory) -> None:
    """Write the floor of the schema at ``script``'s head (called right after an upgrade)."""
    head = script.get_current_head()
    assert head is not None
    connection.execute(delete(SchemaFloor))
    connection.execute(
        insert(SchemaFloor).values(
            head=head, oldest_code=oldest_code(script, head), written_at=utcnow()
        )
    )


def read(connection: Connection, head: str) -> str | None:
    """Return the oldest code revision recorded for schema ``head``, or None if none is."""
    try:
        with connection.begin_nested():
            return connection.scalar(
                select(SchemaFloor.oldest_code).where(SchemaFloor.head == head)
            )
    except SQLAlchemyError:
        # A schema from before the floor was kept: nothing vouches for running on it.
        return None
