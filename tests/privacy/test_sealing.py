"""A sealed answer opens only with its key, for its own poll and participation."""

from __future__ import annotations

from nudges.pulse.sealing import Sealer


def test_a_sealed_answer_opens_with_the_same_secret_after_a_restart() -> None:
    sealed = Sealer.from_secret("s3cret").seal(7, 42, 4)
    assert Sealer.from_secret("s3cret").open(7, 42, sealed) == 4
    assert Sealer.from_secret("s3cret").key_id == Sealer.from_secret("s3cret").key_id


def test_a_sealed_answer_does_not_open_elsewhere() -> None:
    sealer = Sealer.from_secret("s3cret")
    sealed = sealer.seal(7, 42, 4)
    # Moved to another person or poll, under another key, or tampered with: it does not open.
    assert sealer.open(7, 43, sealed) is None
    assert sealer.open(8, 42, sealed) is None
    assert Sealer.from_secret("other").open(7, 42, sealed) is None
    assert Sealer.ephemeral().open(7, 42, sealed) is None
    assert sealer.open(7, 42, sealed[:-1] + bytes([sealed[-1] ^ 1])) is None
    assert sealer.open(7, 42, b"") is None


def test_equal_answers_never_look_alike_and_all_have_one_length() -> None:
    sealer = Sealer.ephemeral()
    blobs = [sealer.seal(1, 1, v) for v in (1, 1, 1, 5, 5, 5)]
    assert len(set(blobs)) == len(blobs)
    assert {len(b) for b in blobs} == {44}
    assert Sealer.ephemeral().key_id != sealer.key_id


def test_a_click_time_sealed_with_the_answer_changes_neither_its_length_nor_its_look() -> None:
    sealer = Sealer.from_secret("s3cret")
    timed = [sealer.seal(1, 1, 3, 1_800_000_000.123456) for _ in range(3)]
    untimed = sealer.seal(1, 1, 3)
    assert {len(b) for b in [*timed, untimed]} == {44}
    assert len(set(timed)) == 3
    assert sealer.open_timed(1, 1, timed[0]) == (3, 1_800_000_000.123456)
    assert sealer.open(1, 1, timed[0]) == 3
    # An answer sealed without a time (before this was kept) opens with none.
    assert sealer.open_timed(1, 1, untimed) == (3, None)
