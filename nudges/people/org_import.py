"""Apply the org chart's rows: plan the changes, refuse reporting cycles, write all or nothing.

The rows come from ``org_file``, which reads and checks the CSV file.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from nudges.people.directory import default_week, find_workspace
from nudges.people.org_file import OrgFileError, OrgRow, RowProblem
from nudges.people.workweeks import set_pattern
from nudges.scheduling.workweek import WorkWeek
from nudges.store.audit import AuditEntry
from nudges.store.org import Person, ReportingLine, Workspace


@dataclass
class ImportPlan:
    """What applying the file would change."""

    new_workspaces: list[tuple[str, str]] = field(default_factory=list)
    new_people: list[tuple[str, str, str]] = field(default_factory=list)
    new_lines: list[OrgRow] = field(default_factory=list)
    team_changes: list[tuple[OrgRow, str]] = field(default_factory=list)
    removed_lines: list[tuple[str, str, str, str]] = field(default_factory=list)
    member_weeks: list[OrgRow] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """Tell whether applying would change nothing."""
        return not (
            self.new_workspaces
            or self.new_people
            or self.new_lines
            or self.team_changes
            or self.removed_lines
            or self.member_weeks
        )

    def counts(self) -> str:
        """Count the changes in one line, e.g. ``2 workspaces, 40 people, 38 reporting lines``."""
        parts = [
            (len(self.new_workspaces), "new workspace(s)"),
            (len(self.new_people), "new people"),
            (len(self.new_lines), "new reporting line(s)"),
            (len(self.team_changes), "team change(s)"),
            (len(self.removed_lines), "removed line(s)"),
            (len(self.member_weeks), "working week(s) or countries"),
        ]
        return ", ".join(f"{n} {what}" for n, what in parts if n) or "nothing"

    def summary(self) -> list[str]:
        """Describe the changes, one line each."""
        out = [f"new workspace {p}:{w}" for p, w in self.new_workspaces]
        out += [f"new person {p}:{w}:{u}" for p, w, u in self.new_people]
        out += [f"add {r.member} -> {r.manager} (team {r.team or '-'})" for r in self.new_lines]
        out += [
            f"move {r.member} under {r.manager} from team {old or '-'} to {r.team or '-'}"
            for r, old in self.team_changes
        ]
        out += [f"remove {m} -> {mgr} ({p}:{w})" for p, w, mgr, m in self.removed_lines]
        out += [f"set the working week or country of {r.member}" for r in self.member_weeks]
        return out


# Rows per INSERT; keeps every statement within SQLite's and asyncpg's parameter limits.
CHUNK = 1_000

Progress = Callable[[int, int], None]
T = TypeVar("T")


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


async def _people_ids(session: AsyncSession, workspace_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(Person.external_id, Person.id).where(Person.workspace_id == workspace_id)
    )
    return {external_id: person_id for external_id, person_id in rows.all()}


async def _stored_lines(
    session: AsyncSession, workspace_id: int
) -> dict[tuple[str, str], tuple[int, str]]:
    manager, member = aliased(Person), aliased(Person)
    rows = await session.execute(
        select(manager.external_id, member.external_id, ReportingLine.id, ReportingLine.team)
        .join(manager, manager.id == ReportingLine.manager_id)
        .join(member, member.id == ReportingLine.member_id)
        .where(ReportingLine.workspace_id == workspace_id)
    )
    return {(m, e): (line_id, team) for m, e, line_id, team in rows.all()}


def _cycle(edges: Mapping[str, Iterable[str]]) -> list[str] | None:
    """Return one reporting cycle as a path of ids (first id repeated at the end), if any."""
    state: dict[str, int] = {}  # 1: on the current path, 2: fully explored
    for root in edges:
        if root in state:
            continue
        path: list[str] = [root]
        stack: list[Iterator[str]] = [iter(edges.get(root, ()))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(edges.get(nxt, ())))
    return None


def _check_cycles(
    platform: str,
    workspace: str,
    rows: list[OrgRow],
    stored: Iterable[tuple[str, str]],
) -> None:
    edges: dict[str, list[str]] = defaultdict(list)
    line_of: dict[tuple[str, str], int] = {}
    for manager, member in stored:
        edges[manager].append(member)
    for row in rows:
        edges[row.manager].append(row.member)
        line_of[(row.manager, row.member)] = row.line
    cycle = _cycle(edges)
    if cycle is None:
        return
    hops = list(itertools.pairwise(cycle))
    where = [f"line {line_of[h]}" if h in line_of else "already stored" for h in hops]
    first = min((line_of[h] for h in hops if h in line_of), default=0)
    raise OrgFileError(
        [
            RowProblem(
                first,
                f"reporting cycle in {platform}:{workspace}: {' -> '.join(cycle)} "
                f"({', '.join(where)}); someone in it must report to someone outside it",
            )
        ]
    )


async def apply_org(
    session: AsyncSession,
    rows: Iterable[OrgRow],
    *,
    dry_run: bool,
    replace: bool = False,
    defaults: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> ImportPlan:
    """Bring reporting lines in line with ``rows``; with ``dry_run`` only report what would change.

    New workspaces get ``defaults`` (locale, time zone, country). Each workspace is read in a few
    queries and written in bulk, so a file of tens of thousands of rows imports in seconds.
    Nothing is applied when a reporting cycle would result. The caller owns the transaction:
    commit to keep the changes, roll back otherwise.
    """
    plan = ImportPlan()
    rows = list(rows)
    by_workspace: dict[tuple[str, str], list[OrgRow]] = defaultdict(list)
    for row in rows:
        by_workspace[(row.platform, row.workspace)].append(row)
    done = 0
    for (platform, external_id), ws_rows in by_workspace.items():
        workspace = await find_workspace(session, platform, external_id)
        people = await _people_ids(session, workspace.id) if workspace else {}
        stored = await _stored_lines(session, workspace.id) if workspace else {}
        _check_cycles(platform, external_id, ws_rows, () if replace else stored)
        if workspace is None:
            plan.new_workspaces.append((platform, external_id))
            if not dry_run:
                workspace = Workspace(
                    platform=platform, external_id=external_id, **dict(defaults or {})
                )
                session.add(workspace)
                await session.flush()
        needed = dict.fromkeys(uid for r in ws_rows for uid in (r.manager, r.member))
        new_people = [uid for uid in needed if uid not in people]
        plan.new_people += [(platform, external_id, uid) for uid in new_people]
        wanted: set[tuple[str, str]] = set()
        changes: list[tuple[OrgRow, str]] = []
        for row in ws_rows:
            wanted.add((row.manager, row.member))
            existing = stored.get((row.manager, row.member))
            if existing is None:
                plan.new_lines.append(row)
            elif existing[1] != row.team:
                changes.append((row, existing[1]))
        plan.team_changes += changes
        removed = [pair for pair in stored if pair not in wanted] if replace else []
        plan.removed_lines += [(platform, external_id, m, e) for m, e in removed]
        weeks = list({r.member: r for r in ws_rows if r.week is not None}.values())
        plan.member_weeks += weeks
        if not dry_run and workspace is not None:
            await _write(
                session, workspace.id, people, new_people, changes, ws_rows, stored, removed
            )
            await _write_weeks(session, workspace, people, weeks)
        done += len(ws_rows)
        if progress is not None:
            progress(done, len(rows))
    if not dry_run and not plan.is_empty:
        session.add(
            AuditEntry(
                action="org.import",
                target=f"{len(rows)} rows",
                details={
                    "added": len(plan.new_lines),
                    "team_changes": len(plan.team_changes),
                    "removed": len(plan.removed_lines),
                },
            )
        )
    await session.flush()
    return plan


async def _write(
    session: AsyncSession,
    workspace_id: int,
    people: dict[str, int],
    new_people: list[str],
    changes: list[tuple[OrgRow, str]],
    rows: list[OrgRow],
    stored: dict[tuple[str, str], tuple[int, str]],
    removed: list[tuple[str, str]],
) -> None:
    for chunk in _chunks(new_people):
        created = await session.execute(
            insert(Person).returning(Person.external_id, Person.id),
            [{"workspace_id": workspace_id, "external_id": uid} for uid in chunk],
        )
        people.update({external_id: person_id for external_id, person_id in created.all()})
    new_lines = [
        {
            "workspace_id": workspace_id,
            "manager_id": people[r.manager],
            "member_id": people[r.member],
            "team": r.team,
        }
        for r in rows
        if (r.manager, r.member) not in stored
    ]
    for line_chunk in _chunks(new_lines):
        await session.execute(insert(ReportingLine), list(line_chunk))
    teams = [{"id": stored[(r.manager, r.member)][0], "team": r.team} for r, _old in changes]
    if teams:
        await session.execute(update(ReportingLine), teams)
    removed_ids = [stored[pair][0] for pair in removed]
    for id_chunk in _chunks(removed_ids):
        await session.execute(delete(ReportingLine).where(ReportingLine.id.in_(id_chunk)))


async def _write_weeks(
    session: AsyncSession, workspace: Workspace, people: dict[str, int], rows: list[OrgRow]
) -> None:
    """Store each member's working week and country from the optional columns."""
    default = default_week(workspace)
    for row in rows:
        week = row.week
        assert week is not None
        person_id = people[row.member]
        if week.country is not None:
            await session.execute(
                update(Person).where(Person.id == person_id).values(country=week.country)
            )
        if week.days is None and week.hours is None:
            continue
        start, end = week.hours or (default.start, default.end)
        chosen = WorkWeek(week.days or default.days, start, end)
        await set_pattern(
            session,
            workspace,
            f"person:{person_id}",
            chosen,
            source="import",
            person_id=person_id,
        )
