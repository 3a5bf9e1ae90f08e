"""Show what the planner would send a person over the coming weeks, without sending anything."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges import directory
from nudges.coaching.inputs import planner_input
from nudges.content.catalogue import Catalogue
from nudges.delivery import idempotency_key
from nudges.domain import DeliveryKind
from nudges.i18n import t
from nudges.planner import PastNudge, ReportInfo, choose
from nudges.scheduling.calendar import occurrences_between
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace


class PreviewError(Exception):
    """Raised when the workspace or person cannot be found."""


@dataclass(frozen=True)
class PlannedItem:
    """One delivery the planner would make."""

    local_time: str
    utc_time: str
    kind: str
    nudge_key: str
    reason: str
    moved: str | None
    status: str

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly dict."""
        return asdict(self)


async def _find(
    session: AsyncSession, workspace_id: str, person_id: str, platform: str | None
) -> tuple[Workspace, Person]:
    try:
        workspace = await directory.workspace_by_external_id(session, workspace_id, platform)
    except directory.WorkspaceLookupError as exc:
        raise PreviewError(str(exc)) from None
    person = await directory.find_person(session, workspace.id, person_id)
    if person is None:
        raise PreviewError(f"no person {person_id!r} in workspace {workspace_id!r}")
    return workspace, person


async def preview(
    session: AsyncSession,
    catalogue: Catalogue,
    now: datetime,
    *,
    workspace_id: str,
    person_id: str,
    weeks: int,
    platform: str | None = None,
    locale: str = "en",
) -> list[PlannedItem]:
    """List the nudges ``person`` would get from ``now`` for ``weeks`` weeks."""
    workspace, person = await _find(session, workspace_id, person_id, platform)
    spec, _source = await directory.effective_cadence(session, workspace, person)
    avail = directory.availability(
        workspace, person, await directory.blackout_days(session, workspace.id)
    )
    inp = await planner_input(session, workspace, person, now)
    history = list(inp.history)
    reports = {r.person_id: r for r in inp.reports}
    items: list[PlannedItem] = []
    for occ in occurrences_between(spec, avail, now, now + timedelta(weeks=weeks)):
        status = "planned"
        if person.opted_out:
            status = "skipped: opted out"
        elif person.paused_until and occ.local.date() <= person.paused_until:
            status = "skipped: paused"
        key = idempotency_key(DeliveryKind.NUDGE, person.id, occ.period_key)
        existing = await session.scalar(select(Delivery).where(Delivery.idempotency_key == key))
        if existing is not None:
            items.append(
                PlannedItem(
                    occ.local.isoformat(timespec="minutes"),
                    occ.utc.isoformat(timespec="minutes"),
                    existing.kind,
                    existing.content_key,
                    existing.reason,
                    occ.moved,
                    f"already {existing.status}",
                )
            )
            continue
        sim = replace(
            inp, today=occ.local.date(), history=tuple(history), reports=tuple(reports.values())
        )
        choice = choose(sim, catalogue, occ.utc)
        if choice is None:
            continue
        items.append(
            PlannedItem(
                occ.local.isoformat(timespec="minutes"),
                occ.utc.isoformat(timespec="minutes"),
                choice.kind.value,
                choice.nudge_key,
                t(locale, choice.reason_key, **choice.reason_params),
                occ.moved,
                status,
            )
        )
        if status == "planned":
            # Later weeks should see this one as already sent, as the real planner would.
            history.append(PastNudge(choice.nudge_key, choice.kind, occ.utc))
            if choice.subject_id is not None and choice.subject_id in reports:
                old = reports[choice.subject_id]
                reports[choice.subject_id] = ReportInfo(old.person_id, old.external_id, occ.utc)
    return items
