"""Decide who may open the dashboard: short-lived sign-in links for admins, or this machine only.

A sign-in link carries a Fernet token (encrypted, authenticated, time-stamped) naming the
workspace and the admin; it is good for ``LINK_MINUTES``. Opening it sets a cookie of the same
kind that lasts ``SESSION_HOURS``. Both are checked against the store on every request, so an
admin who loses the role loses the dashboard at once. Without a sign-in, only a request from this
machine to a service that listens on this machine only is let in (the local and sandbox case).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken

LINK_MINUTES = 15
SESSION_HOURS = 8
COOKIE = "nudgebot_dashboard"


@dataclass(frozen=True)
class Viewer:
    """Who is looking: an admin of one workspace, or the local operator (any workspace)."""

    workspace_id: int | None
    person_external_id: str | None

    @property
    def local(self) -> bool:
        """Tell whether this is the operator on this machine rather than a signed-in admin."""
        return self.workspace_id is None


LOCAL = Viewer(None, None)


class Passes:
    """Issue and read sign-in links and session cookies."""

    def __init__(self, secret_key: str | None) -> None:
        # Without a configured key, links last only as long as this process: say so in the README.
        self._fernet = Fernet(secret_key.encode() if secret_key else Fernet.generate_key())

    def issue(self, workspace_id: int, person_external_id: str, purpose: str) -> str:
        """Return a token for ``purpose`` ("link" or "session")."""
        body = {"w": workspace_id, "p": person_external_id, "u": purpose}
        return self._fernet.encrypt(json.dumps(body).encode()).decode()

    def read(self, token: str, purpose: str) -> Viewer | None:
        """Return the viewer a token names, or None when it is forged, expired or for elsewhere."""
        minutes = LINK_MINUTES if purpose == "link" else SESSION_HOURS * 60
        ttl = int(timedelta(minutes=minutes).total_seconds())
        try:
            body = json.loads(self._fernet.decrypt(token.encode(), ttl=ttl))
        except (InvalidToken, ValueError, UnicodeError):
            return None
        if not isinstance(body, dict) or body.get("u") != purpose:
            return None
        workspace, person = body.get("w"), body.get("p")
        if not isinstance(workspace, int) or not isinstance(person, str):
            return None
        return Viewer(workspace, person)
