"""Seal a pending pulse answer so that the database alone cannot read it.

While a poll is open, each answer waits in ``pulse_pending`` next to its participation row (so a
crash loses nothing and a person can change it), encrypted with AES-GCM under a key the
database never holds: derived from the service's secret when one is configured, otherwise made
at random for this process only. The poll id and participation id are bound in as associated
data, so a sealed answer cannot be moved to another person or poll. Every sealing uses a fresh
nonce, so equal answers never look alike.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
# One byte of answer padded to a fixed size, so every sealed answer has the same length.
PLAIN_BYTES = 16
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

    def seal(self, poll_id: int, participation_id: int, value: int) -> bytes:
        """Encrypt ``value`` for one participation in one poll."""
        nonce = os.urandom(NONCE_BYTES)
        plain = bytes([value]) + os.urandom(PLAIN_BYTES - 1)
        return nonce + self._aead.encrypt(nonce, plain, _bound(poll_id, participation_id))

    def open(self, poll_id: int, participation_id: int, sealed: bytes) -> int | None:
        """Decrypt a sealed answer, or return None when this key cannot (or it was tampered)."""
        nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        try:
            plain = self._aead.decrypt(nonce, body, _bound(poll_id, participation_id))
        except (InvalidTag, ValueError):
            return None
        return plain[0] if len(plain) == PLAIN_BYTES else None


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
