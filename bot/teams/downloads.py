"""Hand a file to someone in Teams as a short-lived download link that any replica serves.

A bot can only attach files in a 1:1 chat through Teams' file-consent flow and the user's
OneDrive; a data export is instead kept in the store for ``KEEP_MINUTES`` under an unguessable
token, and the card in the person's own chat links to it. The file is sealed (AES-GCM) under a
key derived from the token, and the store keeps only a hash of the token: whoever holds the
database can neither find nor read a file without the link, and every replica behind a load
balancer can serve it. The link is the only key, so it is sent nowhere else; it stops working
after the time, when the row is swept.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aiohttp import web
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, select

from nudges.store.database import Database
from nudges.store.shared import SealedDownload

DOWNLOADS_PATH = "/teams/downloads"
KEEP_MINUTES = 15
_INFO = b"nudgebot teams downloads v1"
_NONCE = 12


def _now() -> datetime:
    return datetime.now(UTC)


class Downloads:
    """Keep files sealed in the store for a while and serve each at its own secret URL."""

    def __init__(self, public_url: str, db: Database, now: Callable[[], datetime] = _now) -> None:
        self.public_url = public_url.rstrip("/")
        self.db = db
        self._now = now

    async def keep(self, filename: str, data: bytes) -> str:
        """Seal ``data`` into the store and return the URL that downloads it."""
        token = secrets.token_urlsafe(32)
        now = self._now()
        async with self.db.session() as session:
            await session.execute(delete(SealedDownload).where(SealedDownload.expires_at <= now))
            session.add(
                SealedDownload(
                    id=_row_id(token),
                    sealed=_seal(token, filename, data),
                    expires_at=now + timedelta(minutes=KEEP_MINUTES),
                )
            )
            await session.commit()
        return f"{self.public_url}{DOWNLOADS_PATH}/{token}"

    async def sweep(self) -> int:
        """Delete every file past its time; return how many."""
        async with self.db.session() as session:
            gone = await session.execute(
                delete(SealedDownload).where(SealedDownload.expires_at <= self._now())
            )
            await session.commit()
        return int(getattr(gone, "rowcount", 0) or 0)

    def add_routes(self, app: web.Application) -> None:
        """Mount ``GET /teams/downloads/{token}``."""
        app.router.add_get(DOWNLOADS_PATH + "/{token}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        """Serve a kept file as an attachment, or 404 once it is gone."""
        token = request.match_info["token"]
        async with self.db.session() as session:
            row = await session.scalar(
                select(SealedDownload).where(
                    SealedDownload.id == _row_id(token),
                    SealedDownload.expires_at > self._now(),
                )
            )
        opened = _open(token, row.sealed) if row is not None else None
        if opened is None:
            return web.Response(status=404, text="This download has expired; ask for it again.")
        filename, data = opened
        safe = "".join(c for c in filename if c.isalnum() or c in "._-") or "export.json"
        return web.Response(
            body=data,
            content_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="{safe}"',
                "Cache-Control": "no-store",
            },
        )


def _row_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aead(token: str) -> AESGCM:
    key = HKDF(algorithm=SHA256(), length=32, salt=None, info=_INFO).derive(token.encode())
    return AESGCM(key)


def _seal(token: str, filename: str, data: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    name = filename.encode()[:255]
    plain = len(name).to_bytes(2, "big") + name + data
    return nonce + _aead(token).encrypt(nonce, plain, _row_id(token).encode())


def _open(token: str, sealed: bytes) -> tuple[str, bytes] | None:
    try:
        plain = _aead(token).decrypt(sealed[:_NONCE], sealed[_NONCE:], _row_id(token).encode())
    except (InvalidTag, ValueError):
        return None
    size = int.from_bytes(plain[:2], "big")
    return plain[2 : 2 + size].decode(errors="replace"), plain[2 + size :]
