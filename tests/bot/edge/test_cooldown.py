from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.edge.cooldown import DmCooldown

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def test_a_person_gets_one_reply_per_cooldown() -> None:
    cooldown = DmCooldown(timedelta(minutes=10))
    assert cooldown.should_reply("T1", "U1", NOW)
    assert not cooldown.should_reply("T1", "U1", NOW + timedelta(minutes=9))
    assert cooldown.should_reply("T1", "U2", NOW)
    assert cooldown.should_reply("T2", "U1", NOW)
    assert cooldown.should_reply("T1", "U1", NOW + timedelta(minutes=10))


def test_replies_outside_the_cooldown_are_forgotten_when_memory_is_full() -> None:
    cooldown = DmCooldown(timedelta(minutes=10), memory=2)
    assert cooldown.should_reply("T1", "U1", NOW)
    assert cooldown.should_reply("T1", "U2", NOW + timedelta(minutes=5))
    assert cooldown.should_reply("T1", "U3", NOW + timedelta(minutes=12))
    # U2 was still inside its cooldown, so it was kept.
    assert not cooldown.should_reply("T1", "U2", NOW + timedelta(minutes=12))
