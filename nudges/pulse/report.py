"""Export pulse results over time as CSV or JSON, obeying the anonymity threshold.

One row per poll, plus (for a whole workspace) one row per period and dimension that combines
only visible polls. A hidden poll's row carries its answer count and the threshold, nothing else.
CSV cells that a spreadsheet would run as a formula are defused with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.domain import Dimension
from nudges.i18n import t
from nudges.people import directory
from nudges.pulse.groups import groups_of_team, manager_of_key
from nudges.pulse.results import PollResult, combine, load_polls, results_of
from nudges.store.org import Person, Workspace

# A spreadsheet treats a cell starting with one of these as a formula (or a formula's start).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = (
    "period",
    "closed_on",
    "team",
    "manager",
    "dimension",
    "question",
    "answered",
    "threshold",
    "score",
    "participation",
    "note",
)


class ReportError(Exception):
    """Raised when a report cannot be made; the message says why in one line."""


@dataclass(frozen=True)
class ReportRow:
    """One line of the report; ``score`` and ``participation`` are empty below the threshold."""

    period: str
    closed_on: str
    team: str
    manager: str
    dimension: str
    question: str
    answered: int
    threshold: int
    score: float | None
    participation: float | None
    note: str


async def find_workspace(
    session: AsyncSession, external_id: str, platform: str | None = None
) -> Workspace:
    """Return the workspace with this platform id, or raise ReportError."""
    try:
        return await directory.workspace_by_external_id(session, external_id, platform)
    except directory.WorkspaceLookupError as exc:
        raise ReportError(str(exc)) from None


def _rounded(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


def _row(result: PollResult, managers: dict[int, str], locale: str) -> ReportRow:
    manager_id = manager_of_key(result.group_key)
    if not result.closed:
        note = t(locale, "pulse.report.open")
    elif result.visible:
        note = ""
    else:
        note = t(locale, "pulse.report.hidden", threshold=result.threshold)
    rate = result.answered / result.invited if result.visible and result.invited else None
    return ReportRow(
        period=result.period_key,
        closed_on=result.closes_at.date().isoformat(),
        team=result.team,
        manager=managers.get(manager_id, "") if manager_id is not None else "",
        dimension=result.dimension.value if result.dimension else "own",
        question=result.question_key,
        answered=result.answered,
        threshold=result.threshold,
        score=_rounded(result.score, 2),
        participation=_rounded(min(1.0, rate) if rate is not None else None, 3),
        note=note,
    )


def _workspace_rows(results: Sequence[PollResult], locale: str) -> list[ReportRow]:
    """Combine, per period and dimension, only the polls that are visible on their own."""
    buckets: dict[tuple[str, Dimension | None], list[PollResult]] = defaultdict(list)
    for result in results:
        if result.visible:
            buckets[(result.period_key, result.dimension)].append(result)
    rows = []
    for (period, dimension), members in buckets.items():
        point = combine(members)
        if point is None:
            continue
        rows.append(
            ReportRow(
                period=period,
                closed_on=point.closes_at.date().isoformat(),
                team=t(locale, "pulse.report.workspace"),
                manager="",
                dimension=dimension.value if dimension else "own",
                question="",
                answered=point.answered,
                threshold=max(m.threshold for m in members),
                score=_rounded(point.score, 2),
                participation=_rounded(point.participation, 3),
                note="",
            )
        )
    return rows


async def build_report(
    session: AsyncSession,
    workspace: Workspace,
    *,
    team: str | None = None,
    locale: str = "en",
) -> list[ReportRow]:
    """Return the workspace's (or one team's) results over time, oldest first."""
    policy = directory.policy_of(workspace)
    if team:
        groups = await groups_of_team(session, workspace.id, team.lstrip("#"))
        if not groups:
            raise ReportError(f"no team {team!r} in workspace {workspace.external_id!r}")
        polls = await load_polls(session, workspace.id, group_keys=[g.key for g in groups])
    else:
        polls = await load_polls(session, workspace.id)
    results = await results_of(session, polls, policy)
    managers = {
        p.id: p.external_id
        for p in (
            await session.scalars(select(Person).where(Person.workspace_id == workspace.id))
        ).all()
    }
    rows = [_row(r, managers, locale) for r in results]
    if not team:
        rows += _workspace_rows(results, locale)
    # Per period: each poll, then the workspace row (the only rows without a question).
    return sorted(rows, key=lambda r: (r.closed_on, r.period, r.question == "", r.team, r.manager))


def csv_safe(cell: str) -> str:
    """Defuse a cell a spreadsheet would otherwise run as a formula."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def _cell(value: object) -> str:
    if value is None:
        return ""
    return csv_safe(str(value))


def to_csv(rows: Sequence[ReportRow]) -> str:
    """Write rows as CSV with a header line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        data = asdict(row)
        writer.writerow([_cell(data[column]) for column in COLUMNS])
    return out.getvalue()


def to_json(rows: Sequence[ReportRow], *, generated_at: datetime | None = None) -> str:
    """Write rows as a JSON document."""
    document: dict[str, object] = {"rows": [asdict(r) for r in rows]}
    if generated_at is not None:
        document["generated_at"] = generated_at.isoformat()
    return json.dumps(document, indent=2, ensure_ascii=False)
