"""Build small organisations in a real database for tests."""

from __future__ import annotations

from datetime import datetime

from nudges.store.database import Database
from nudges.store.org import Person, ReportingLine, Workspace


async def make_org(
    db: Database,
    *,
    created: datetime,
    managers: dict[str, list[str]],
    tz: dict[str, str] | None = None,
    platform: str = "slack",
    workspace: str = "T1",
    country: str | None = "NL",
    team: str | dict[str, str] = "",
) -> dict[str, int]:
    """Create a workspace with managers and their reports; return person ids by external id.

    ``team`` names every line's team, or, as a dict, each manager's team.
    """
    ids: dict[str, int] = {}
    async with db.session() as s:
        ws = Workspace(
            platform=platform,
            external_id=workspace,
            country=country,
            default_timezone="Europe/Amsterdam",
            created_at=created,
        )
        s.add(ws)
        await s.flush()

        async def person(ext: str) -> int:
            if ext not in ids:
                p = Person(
                    workspace_id=ws.id,
                    external_id=ext,
                    timezone=(tz or {}).get(ext),
                    created_at=created,
                )
                s.add(p)
                await s.flush()
                ids[ext] = p.id
            return ids[ext]

        for manager, members in managers.items():
            mid = await person(manager)
            for member in members:
                s.add(
                    ReportingLine(
                        workspace_id=ws.id,
                        manager_id=mid,
                        member_id=await person(member),
                        team=team if isinstance(team, str) else team.get(manager, ""),
                    )
                )
        ids["__workspace__"] = ws.id
        await s.commit()
    return ids
