"""Hand a file to someone in Teams as a short-lived download link served by this service.

A bot can only attach files in a 1:1 chat through Teams' file-consent flow and the user's
OneDrive; a data export is instead kept in this process for ``KEEP_MINUTES`` under an
unguessable token, and the card in the person's own chat links to it. The link is the only key,
so it is sent nowhere else; it stops working after the time, or when the process restarts.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

DOWNLOADS_PATH = "/teams/downloads"
KEEP_MINUTES = 15
# At most this many exports waiting at once; the oldest go first.
MAX_KEPT = 200


@dataclass(frozen=True)
class _Kept:
    filename: str
    data: bytes
    until: float


class Downloads:
    """Keep files for a while and serve each at its own secret URL."""

    def __init__(self, public_url: str, now: Callable[[], float] = time.monotonic) -> None:
        self.public_url = public_url.rstrip("/")
        self._now = now
        self._kept: dict[str, _Kept] = {}

    def keep(self, filename: str, data: bytes) -> str:
        """Keep ``data`` and return the URL that downloads it."""
        self._forget_old()
        while len(self._kept) >= MAX_KEPT:
            self._kept.pop(next(iter(self._kept)))
        token = secrets.token_urlsafe(32)
        self._kept[token] = _Kept(filename, data, self._now() + KEEP_MINUTES * 60)
        return f"{self.public_url}{DOWNLOADS_PATH}/{token}"

    def add_routes(self, app: web.Application) -> None:
        """Mount ``GET /teams/downloads/{token}``."""
        app.router.add_get(DOWNLOADS_PATH + "/{token}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        """Serve a kept file as an attachment, or 404 once it is gone."""
        self._forget_old()
        kept = self._kept.get(request.match_info["token"])
        if kept is None:
            return web.Response(status=404, text="This download has expired; ask for it again.")
        safe = "".join(c for c in kept.filename if c.isalnum() or c in "._-") or "export.json"
        return web.Response(
            body=kept.data,
            content_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="{safe}"',
                "Cache-Control": "no-store",
            },
        )

    def _forget_old(self) -> None:
        now = self._now()
        for token in [t for t, k in self._kept.items() if k.until <= now]:
            del self._kept[token]
