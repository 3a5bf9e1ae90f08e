"""Play a hostile operator with the SQLite file and its write-ahead log.

The attack of issue 10 replayed the ``-wal`` file commit by commit into a copy of the database
and saw, in each commit, one person's participation flip and one answer appear. Here the log is
kept from being checkpointed (a reader holds an old snapshot), so it still holds every commit of
the poll's life when it is replayed, the worst case for the defence.
"""

from __future__ import annotations

import sqlite3
import struct
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from nudges.store.database import Database
from tests.conftest import BACKEND
from tests.privacy.linking import (
    FINAL,
    Candidates,
    answered_world,
    assert_linked,
    assert_no_better_than_chance,
    close,
    poll_answers,
    unsealed_world,
)

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="the write-ahead log of SQLite")

WAL_HEADER = 32
FRAME_HEADER = 24


def _path(db: Database) -> Path:
    assert db.url.database
    return Path(db.url.database)


@contextmanager
def pinned_snapshot(path: Path) -> Iterator[None]:
    """Hold a read transaction open, so no checkpoint can empty the log meanwhile."""
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM pulse_polls").fetchone()
        yield
    finally:
        reader.execute("COMMIT")
        reader.close()


def commits(base: bytes, wal: bytes) -> Iterator[bytes]:
    """Yield the database file as it stood after each commit in the log, oldest first."""
    if len(wal) < WAL_HEADER:
        return
    _magic, _version, page_size, _seq, salt1, salt2 = struct.unpack(">IIIIII", wal[:24])
    image = bytearray(base)
    offset = WAL_HEADER
    while offset + FRAME_HEADER + page_size <= len(wal):
        page, size_after, s1, s2 = struct.unpack(">IIII", wal[offset : offset + 16])
        if (s1, s2) != (salt1, salt2):
            break  # a frame left over from before the log was last restarted
        data = wal[offset + FRAME_HEADER : offset + FRAME_HEADER + page_size]
        start = (page - 1) * page_size
        if len(image) < start + page_size:
            image.extend(bytes(start + page_size - len(image)))
        image[start : start + page_size] = data
        if size_after:
            del image[size_after * page_size :]
            yield bytes(image)
        offset += FRAME_HEADER + page_size


def _read(image: bytes, tmp: Path) -> tuple[dict[str, bool], Counter[int], set[bytes]]:
    copy = tmp / "replayed.sqlite3"
    copy.write_bytes(image)
    # Present the image as a rollback-journal database, so SQLite reads it as it stands.
    with copy.open("r+b") as f:
        f.seek(18)
        f.write(b"\x01\x01")
    conn = sqlite3.connect(copy)
    try:
        answered = dict(
            conn.execute(
                "SELECT p.external_id, pp.answered FROM pulse_participation pp "
                "JOIN people p ON p.id = pp.person_id"
            ).fetchall()
        )
        values = Counter(v for (v,) in conn.execute("SELECT value FROM pulse_answers"))
        sealed = {bytes(s) for (s,) in conn.execute("SELECT sealed FROM pulse_pending")}
    finally:
        conn.close()
    return {k: bool(v) for k, v in answered.items()}, values, sealed


def replay_attack(base: bytes, wal: bytes, tmp: Path) -> tuple[Candidates, set[bytes], int]:
    """Link each person to the answers that appeared in the first commit after they answered."""
    states = [_read(image, tmp) for image in commits(base, wal)]
    candidates: Candidates = {}
    sealed_seen: set[bytes] = set()
    for index, (answered, _values, sealed) in enumerate(states):
        sealed_seen |= sealed
        before = states[index - 1][0] if index else {}
        for person in (p for p, a in answered.items() if a and not before.get(p)):
            found: Counter[int] = Counter()
            for later in range(index, len(states)):
                earlier = states[later - 1][1] if later else Counter()
                appeared = states[later][1] - earlier
                if appeared:
                    found = appeared
                    break
            candidates[person] = found
    return candidates, sealed_seen, len(states)


def _wal(path: Path) -> bytes:
    wal = Path(f"{path}-wal")
    return wal.read_bytes() if wal.exists() else b""


def _file(path: Path) -> bytes:
    return path.read_bytes()


async def _checkpointed_base(db: Database) -> bytes:
    async with db.engine.connect() as conn:
        await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    return _file(_path(db))


async def test_replaying_the_log_links_nobody_while_the_poll_is_open(
    db: Database, tmp_path: Path
) -> None:
    base = await _checkpointed_base(db)
    path = _path(db)
    with pinned_snapshot(path):
        await answered_world(db)
        wal = _wal(path)
    candidates, sealed, count = replay_attack(base, wal, tmp_path)
    assert count > len(FINAL)  # every click is a commit of its own in the log
    assert set(candidates) == set(FINAL)
    assert_no_better_than_chance(candidates, poll_answers())
    assert all(not found for found in candidates.values())
    # The log holds sealed answers only, every version different.
    assert len(sealed) >= len(FINAL)


async def test_replaying_the_log_links_nobody_after_close(db: Database, tmp_path: Path) -> None:
    base = await _checkpointed_base(db)
    path = _path(db)
    with pinned_snapshot(path):
        world, poll = await answered_world(db)
        await close(world, poll)
        wal = _wal(path)
    candidates, _sealed, _count = replay_attack(base, wal, tmp_path)
    assert set(candidates) == set(FINAL)
    assert_no_better_than_chance(candidates, poll_answers())
    # All eight answers appeared together, in the commit that closed the poll.
    assert all(found == poll_answers() for found in candidates.values())


async def test_closing_leaves_no_sealed_answer_in_the_log_or_the_file(db: Database) -> None:
    world, poll = await answered_world(db)
    async with db.engine.connect() as conn:
        sealed = [bytes(s) for (s,) in await conn.execute(text("SELECT sealed FROM pulse_pending"))]
    assert len(sealed) == len(FINAL)
    await close(world, poll)
    # The close was checkpointed and the deleted rows overwritten (secure_delete).
    assert _wal(_path(db)) == b""
    raw = _file(_path(db))
    assert not any(blob in raw for blob in sealed)


async def test_the_replay_does_link_answers_written_the_old_way(
    db: Database, tmp_path: Path
) -> None:
    base = await _checkpointed_base(db)
    path = _path(db)
    with pinned_snapshot(path):
        await unsealed_world(db)
        wal = _wal(path)
    candidates, _sealed, _count = replay_attack(base, wal, tmp_path)
    assert_linked(candidates)
