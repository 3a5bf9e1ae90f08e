"""Seal a pending pulse answer so that the database alone cannot read it.

While a poll is open, each answer waits in ``pulse_pending`` next to its participation row (so a
crash loses nothing and a person can change it), encrypted with AES-GCM under a key the
database never holds: derived from the service's secret when one is configured, otherwise made
at random for this process only. The poll id and participation id are bound in as associated
data, so a sealed answer cannot be moved to another person or poll. Every sealing uses a fresh
nonce, so equal answers never look alike.

The platform's time of the click that gave the answer is sealed with it: replicas compare it to
let the last click win, and it never lies in the clear next to anyone's answer.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
# One byte of answer padded to a fixed size, so every sealed answer has the same length.
PLAIN_BYTES = 16
# After the answer byte: this mark, then the click time in microseconds (big-endian), then
# padding. Answers sealed before click times were kept have random bytes where the mark is.
_TIMED = b"\x00clk"
_CLICK = struct.Struct(">q")
_INFO = b"nudgebot pulse pending answers v1"


class Sealer:
    """Encrypt and decrypt pending answers under one key."""

    def __init__(self, key: bytes, *, durable: bool) -> None:
        self._aead = AESGCM(key)
        # A fingerprint, not the key: it tells rows sealed under another key apart.
        self.key_id = hmac.new(key, b"key id", hashlib.sha256).hexdigest()[:16]
        self.durable = durable

    @classmethod
    def from_secret(cls, secret: str | bytes) -> Sealer:
        """Derive the key from a long-lived service secret, so sealed answers survive restarts."""
        raw = secret.encode() if isinstance(secret, str) else secret
        key = HKDF(algorithm=SHA256(), length=32, salt=None, info=_INFO).derive(raw)
        return cls(key, durable=True)

    @classmethod
    def ephemeral(cls) -> Sealer:
        """Make a key that lives only in this process: sealed answers die with it."""
        return cls(AESGCM.generate_key(bit_length=256), durable=False)

    def seal(
        self, poll_id: int, participation_id: int, value: int, clicked_at: float | None = None
    ) -> bytes:
        """Encrypt ``value`` (and when it was clicked) for one participation in one poll."""
        nonce = os.urandom(NONCE_BYTES)
        if clicked_at is None:
            plain = bytes([value]) + os.urandom(PLAIN_BYTES - 1)
        else:
            stamp = _TIMED + _CLICK.pack(round(clicked_at * 1_000_000))
            plain = bytes([value]) + stamp + os.urandom(PLAIN_BYTES - 1 - len(stamp))
        return nonce + self._aead.encrypt(nonce, plain, _bound(poll_id, participation_id))

    def open(self, poll_id: int, participation_id: int, sealed: bytes) -> int | None:
        """Decrypt a sealed answer, or return None when this key cannot (or it was tampered)."""
        opened = self.open_timed(poll_id, participation_id, sealed)
        return None if opened is None else opened[0]

    def open_timed(
        self, poll_id: int, participation_id: int, sealed: bytes
    ) -> tuple[int, float | None] | None:
        """Decrypt a sealed answer and the time of its click (None when it was not kept)."""
        nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        try:
            plain = self._aead.decrypt(nonce, body, _bound(poll_id, participation_id))
        except (InvalidTag, ValueError):
            return None
        if len(plain) != PLAIN_BYTES:
            return None
        clicked_at = None
        if plain[1 : 1 + len(_TIMED)] == _TIMED:
            (micros,) = _CLICK.unpack_from(plain, 1 + len(_TIMED))
            clicked_at = micros / 1_000_000
        return plain[0], clicked_at


def _bound(poll_id: int, participation_id: int) -> bytes:
    return f"{poll_id}:{participation_id}".encode()


_current: Sealer = Sealer.ephemeral()


def configure(secret: str | bytes | None) -> Sealer:
    """Use a key derived from ``secret`` from now on, or a fresh per-process key without one."""
    global _current
    _current = Sealer.from_secret(secret) if secret else Sealer.ephemeral()
    return _current


def current() -> Sealer:
    """Return the sealer in use."""
    return _current
