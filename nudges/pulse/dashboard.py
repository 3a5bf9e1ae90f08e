"""Gather what the admin dashboard shows per team, behind the same threshold as the digest.

Scores come from ``results_of`` and ``series``, the functions the digest uses, so a figure on the
dashboard exists exactly when the digest would show it: a poll below its threshold contributes its
answer count and nothing else. Nudge outcomes and the reasons nudges were chosen are about the
managers' own nudges, not about anonymous answers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.domain import DeliveryKind, DeliveryStatus, Dimension, NudgeState
from nudges.people import directory
from nudges.pulse.groups import Group, groups_of_workspace
from nudges.pulse.results import Point, PollResult, load_polls, results_of, series
from nudges.store.deliveries import Delivery
from nudges.store.org import Person, Workspace

DIMENSIONS: tuple[Dimension | None, ...] = (*Dimension, None)


@dataclass(frozen=True)
class DimensionTrend:
    """One dimension's visible points, and how many of its closed polls stayed hidden."""

    dimension: Dimension | None
    points: tuple[Point, ...]
    hidden: int


@dataclass(frozen=True)
class HiddenPoll:
    """A closed poll below its threshold: only how many answered, never a score."""

    dimension: Dimension | None
    closes_at: datetime
    answered: int
    threshold: int


@dataclass
class TeamPanel:
    """Everything the dashboard shows about one group (a named team or a manager's reports)."""

    key: str
    team: str
    manager_ids: tuple[str, ...]
    trends: list[DimensionTrend] = field(default_factory=list)
    hidden: list[HiddenPoll] = field(default_factory=list)
    open_polls: int = 0
    # Per kind of nudge: how many were done, snoozed, skipped, not relevant, or still open.
    outcomes: dict[str, Counter[str]] = field(default_factory=dict)
    # Why the planner chose the nudges: reason key -> (count, parameters of the latest).
    reasons: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)


def trends_of(results: Sequence[PollResult]) -> tuple[list[DimensionTrend], list[HiddenPoll]]:
    """Split closed results into visible trends per dimension and hidden polls (counts only)."""
    closed = [r for r in results if r.closed]
    trends: list[DimensionTrend] = []
    for dimension in DIMENSIONS:
        mine = [r for r in closed if r.dimension == dimension]
        if not mine:
            continue
        hidden = sum(not r.visible for r in mine)
        trends.append(DimensionTrend(dimension, tuple(series(mine, dimension)), hidden))
    hidden_polls = [
        HiddenPoll(r.dimension, r.closes_at, r.answered, r.threshold)
        for r in closed
        if not r.visible
    ]
    return trends, hidden_polls


async def workspace_dashboard(
    session: AsyncSession, workspace: Workspace, now: datetime
) -> list[TeamPanel]:
    """Return a panel per group of the workspace, ordered by team name then manager."""
    policy = directory.policy_of(workspace)
    groups = await groups_of_workspace(session, workspace.id)
    external = {
        pid: ext
        for pid, ext in await session.execute(
            select(Person.id, Person.external_id).where(Person.workspace_id == workspace.id)
        )
    }
    polls = await load_polls(session, workspace.id)
    by_group: dict[str, list[PollResult]] = defaultdict(list)
    for result in await results_of(session, polls, policy):
        by_group[result.group_key].append(result)
    nudges = (
        await session.scalars(
            select(Delivery).where(
                Delivery.workspace_id == workspace.id,
                Delivery.kind == DeliveryKind.NUDGE.value,
                Delivery.status == DeliveryStatus.SENT.value,
            )
        )
    ).all()
    by_manager: dict[int, list[Delivery]] = defaultdict(list)
    for delivery in nudges:
        by_manager[delivery.recipient_id].append(delivery)
    panels = []
    for group in groups:
        panel = TeamPanel(
            key=group.key,
            team=group.team,
            manager_ids=tuple(external.get(m, "?") for m in group.manager_ids),
        )
        results = by_group.get(group.key, [])
        panel.trends, panel.hidden = trends_of(results)
        panel.open_polls = sum(1 for r in results if not r.closed and now < r.closes_at)
        _add_nudges(panel, group, by_manager)
        panels.append(panel)
    return sorted(panels, key=lambda p: (p.team == "", p.team.lower(), p.manager_ids))


def _add_nudges(panel: TeamPanel, group: Group, by_manager: dict[int, list[Delivery]]) -> None:
    latest: dict[str, datetime] = {}
    for manager_id in group.manager_ids:
        for delivery in by_manager.get(manager_id, []):
            payload = delivery.payload or {}
            kind = str(payload.get("kind") or "other")
            outcome = delivery.outcome or NudgeState.OPEN.value
            panel.outcomes.setdefault(kind, Counter())[outcome] += 1
            reason = payload.get("reason_key")
            if not reason:
                continue
            count, params = panel.reasons.get(str(reason), (0, {}))
            sent = delivery.sent_at or delivery.created_at
            if str(reason) not in latest or sent >= latest[str(reason)]:
                latest[str(reason)] = sent
                params = {k: str(v) for k, v in (payload.get("reason_params") or {}).items()}
            panel.reasons[str(reason)] = (count + 1, params)
