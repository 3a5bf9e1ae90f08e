"""Play a hostile operator with SQL on PostgreSQL: system columns and the raw heap pages.

The attacks of issue 10 linked every answer to its person: the participation flip and the
answer shared a transaction id (``xmin``), and the rows deleted and re-inserted at close kept
their old versions, with values and transaction ids, in the pages until a vacuum.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

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

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres", reason="system columns and pages of PostgreSQL"
)


async def _people(conn: AsyncConnection) -> dict[int, str]:
    rows = await conn.execute(text("SELECT id, external_id FROM people"))
    return {pid: ext for pid, ext in rows}


async def xmin_attack(db: Database) -> tuple[Candidates, dict[str, int]]:
    """Link by transaction ids and storage order, as any SQL user can read them."""
    async with db.engine.connect() as conn:
        people = await _people(conn)
        parts = (
            await conn.execute(
                text(
                    "SELECT person_id, xmin::text::bigint, ctid::text FROM pulse_participation "
                    "WHERE answered ORDER BY xmin::text::bigint, ctid"
                )
            )
        ).all()
        answers = (
            await conn.execute(
                text(
                    "SELECT xmin::text::bigint, ctid::text, value FROM pulse_answers ORDER BY ctid"
                )
            )
        ).all()
    candidates: Candidates = {}
    for person_id, xmin, _ctid in parts:
        same = Counter(v for x, _c, v in answers if x == xmin)
        # Failing the same transaction, the first answers written after the person answered.
        later = sorted({x for x, _c, _v in answers if x > xmin})
        after = Counter(v for x, _c, v in answers if later and x == later[0])
        candidates[people[person_id]] = same or after
    # Storage order against answering order: one guess per person.
    guesses = {people[p[0]]: a[2] for p, a in zip(parts, answers, strict=False)}
    return candidates, guesses


async def _pages(conn: AsyncConnection, table: str) -> list[Any]:
    blocks = await conn.scalar(
        text("SELECT pg_relation_size(CAST(:t AS regclass)) / current_setting('block_size')::int"),
        {"t": table},
    )
    rows: list[Any] = []
    for block in range(int(blocks or 0)):
        rows += (
            await conn.execute(
                text(
                    "SELECT t_xmin::text::bigint, t_xmax::text::bigint, t_attrs "
                    "FROM heap_page_item_attrs(get_raw_page(:t, :b), CAST(:t AS regclass)) "
                    "WHERE lp_flags = 1"
                ),
                {"t": table, "b": block},
            )
        ).all()
    return rows


async def _column(conn: AsyncConnection, table: str, column: str) -> int:
    """Return a column's index among a tuple's attributes (dropped columns keep their place)."""
    number = await conn.scalar(
        text(
            "SELECT attnum FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) AND attname = :c"
        ),
        {"t": table, "c": column},
    )
    assert number is not None, (table, column)
    return int(number) - 1


async def page_attack(db: Database) -> tuple[Candidates, list[bytes]]:
    """Read every tuple version left in the heap pages, live or dead, and link by ``t_xmin``."""
    async with db.engine.connect() as conn:
        try:
            await conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
            await conn.commit()
        except Exception as exc:  # pragma: no cover - depends on the server's packages
            pytest.skip(f"pageinspect is not available on this server: {exc}")
        people = await _people(conn)
        participation = await _pages(conn, "pulse_participation")
        answers = await _pages(conn, "pulse_answers")
        pending = await _pages(conn, "pulse_pending")
        person_at = await _column(conn, "pulse_participation", "person_id")
        answered_at = await _column(conn, "pulse_participation", "answered")
        value_at = await _column(conn, "pulse_answers", "value")
        sealed_at = await _column(conn, "pulse_pending", "sealed")
    answered_in: dict[str, set[int]] = {}
    for xmin, _xmax, attrs in participation:
        if attrs[answered_at] == b"\x01":
            person = people[int.from_bytes(attrs[person_at], "little")]
            answered_in.setdefault(person, set()).add(xmin)
    # The value is a little-endian smallint.
    values = [(xmin, int.from_bytes(attrs[value_at], "little")) for xmin, _x, attrs in answers]
    candidates: Candidates = {
        person: Counter(v for xmin, v in values if xmin in xmins)
        for person, xmins in answered_in.items()
    }
    # A sealed value is a varlena: a short header, then the bytes.
    sealed = [bytes(attrs[sealed_at]) for _xmin, _xmax, attrs in pending]
    return candidates, sealed


def _assert_sealed_blobs_say_nothing(sealed: list[bytes]) -> None:
    # Each version differs (a fresh nonce each time) and all have one length, so neither
    # equality nor size groups people by answer; without the key they are noise.
    assert len(set(sealed)) == len(sealed)
    assert len({len(s) for s in sealed}) <= 1


async def test_transaction_ids_and_storage_order_link_nobody_while_the_poll_is_open(
    db: Database,
) -> None:
    await answered_world(db)
    candidates, guesses = await xmin_attack(db)
    # Nothing to link to: an open poll has no plain answer in the database.
    assert set(candidates) == set(FINAL)
    assert_no_better_than_chance(candidates, poll_answers())
    assert all(not found for found in candidates.values())
    assert guesses == {}


async def test_transaction_ids_and_storage_order_link_nobody_after_close(db: Database) -> None:
    world, poll = await answered_world(db)
    await close(world, poll)
    candidates, guesses = await xmin_attack(db)
    assert set(candidates) == set(FINAL)
    assert_no_better_than_chance(candidates, poll_answers())
    # Every answer came in one transaction that no participation shares.
    assert all(found == poll_answers() for found in candidates.values())
    # The answers were inserted shuffled: storage order matching answering order for all eight
    # people would happen by chance once in 5040 closes (8! / 2! 2! 2!).
    assert sum(guesses[p] == v for p, v in FINAL.items()) < len(FINAL)


async def test_dead_tuples_in_the_pages_link_nobody_while_the_poll_is_open(db: Database) -> None:
    await answered_world(db)
    candidates, sealed = await page_attack(db)
    assert set(candidates) == set(FINAL)
    assert_no_better_than_chance(candidates, poll_answers())
    assert all(not found for found in candidates.values())
    # Nine sealings (U3 answered twice), the replaced one still in the page as a dead version.
    assert len(sealed) >= len(FINAL)
    _assert_sealed_blobs_say_nothing(sealed)


async def test_dead_tuples_in_the_pages_link_nobody_after_close(db: Database) -> None:
    world, poll = await answered_world(db)
    await close(world, poll)
    candidates, sealed = await page_attack(db)
    assert set(candidates) == set(FINAL)
    assert_no_better_than_chance(candidates, poll_answers())
    assert all(not found for found in candidates.values())
    _assert_sealed_blobs_say_nothing(sealed)
    async with db.engine.connect() as conn:
        versions = await _pages(conn, "pulse_answers")
        value_at = await _column(conn, "pulse_answers", "value")
    # Each answer was written once and never rewritten: no dead version anywhere.
    written = sorted(int.from_bytes(a[value_at], "little") for _x, _m, a in versions)
    assert written == sorted(FINAL.values())


async def test_both_attacks_do_link_answers_written_the_old_way(db: Database) -> None:
    await unsealed_world(db)
    by_xmin, _guesses = await xmin_attack(db)
    assert_linked(by_xmin)
    by_pages, _sealed = await page_attack(db)
    assert_linked(by_pages)
