"""Remember erased people by a keyed hash of their platform id, until they come back themselves."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.store.org import Workspace
from nudges.store.rights import ForgottenPerson

SALT_KEY = "privacy_salt"


def _salt(workspace: Workspace) -> str:
    """Return the workspace's tombstone key, creating it on first use."""
    settings = dict(workspace.settings or {})
    salt = settings.get(SALT_KEY)
    if not isinstance(salt, str):
        salt = secrets.token_hex(32)
        workspace.settings = {**settings, SALT_KEY: salt}
    return salt


def id_hash(workspace: Workspace, external_id: str) -> str:
    """Return the keyed hash that stands for an erased person's platform id."""
    return hmac.new(_salt(workspace).encode(), external_id.encode(), hashlib.sha256).hexdigest()


def pseudonym(workspace: Workspace, external_id: str) -> str:
    """Return the name an erased person keeps in the audit log."""
    return "erased-" + id_hash(workspace, external_id)[:12]


def _has_salt(workspace: Workspace) -> bool:
    # Without a key nobody was ever erased here, and nothing needs writing to find that out.
    return isinstance((workspace.settings or {}).get(SALT_KEY), str)


async def is_forgotten(session: AsyncSession, workspace: Workspace, external_id: str) -> bool:
    """Tell whether this platform id belongs to someone erased, who has not come back since."""
    if not _has_salt(workspace):
        return False
    found = await session.scalar(
        select(ForgottenPerson.id).where(
            ForgottenPerson.workspace_id == workspace.id,
            ForgottenPerson.id_hash == id_hash(workspace, external_id),
        )
    )
    return found is not None


async def came_back(session: AsyncSession, workspace: Workspace, external_id: str) -> None:
    """Drop the tombstone of someone erased who uses the bot again of their own accord."""
    if not _has_salt(workspace):
        return
    await session.execute(
        delete(ForgottenPerson).where(
            ForgottenPerson.workspace_id == workspace.id,
            ForgottenPerson.id_hash == id_hash(workspace, external_id),
        )
    )
