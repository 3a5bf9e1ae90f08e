"""Typed text with a control character is refused with a clear error and nothing stored."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from nudges.messages import COMMITMENT_DUE, COMMITMENT_TEXT, FormId, control_character
from nudges.store.commitments import Commitment
from nudges.store.database import Database
from tests.nudges.coaching.test_interactions import MGR, _sent_nudge


def test_control_characters_are_found_but_tabs_newlines_and_emoji_joiners_are_not() -> None:
    assert control_character("a\x00b") == "\x00"
    assert control_character("bell\x07") == "\x07"
    assert control_character("line\nbreak\tand\r👩‍💻") is None


async def test_a_promise_with_a_nul_byte_gets_a_field_error_and_stores_nothing(
    db: Database,
) -> None:
    interactions, _, _, _, sent = await _sent_nudge(db)
    did = sent.message.metadata["delivery_id"]
    values = {
        COMMITMENT_TEXT: "Send UA\x00 the notes",
        COMMITMENT_DUE: date(2026, 11, 27).isoformat(),
    }
    result = await interactions.on_form(MGR, FormId.NOTE_COMMITMENT, did, values)
    assert "control character" in result.errors[COMMITMENT_TEXT]
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Commitment)) == 0
