"""Import who reports to whom from a CSV file: validate every row, then apply all or nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nudges.domain import Platform
from nudges.store.audit import AuditEntry
from nudges.store.org import Person, ReportingLine, Workspace

COLUMNS = ("platform", "workspace", "manager", "member", "team")
REQUIRED = ("platform", "workspace", "manager", "member")
MAX_ID_LENGTH = 128
MAX_TEAM_LENGTH = 100
EXAMPLE_ROW = "slack,T0123ABCD,U0MANAGER1,U0MEMBER01,Team Blue"


@dataclass(frozen=True)
class OrgRow:
    """One valid row of the org file."""

    line: int
    platform: str
    workspace: str
    manager: str
    member: str
    team: str


@dataclass(frozen=True)
class RowProblem:
    """A problem with one line of the file."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportPlan:
    """What applying the file would change."""

    new_workspaces: list[tuple[str, str]] = field(default_factory=list)
    new_people: list[tuple[str, str, str]] = field(default_factory=list)
    new_lines: list[OrgRow] = field(default_factory=list)
    team_changes: list[tuple[OrgRow, str]] = field(default_factory=list)
    removed_lines: list[tuple[str, str, str, str]] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """Tell whether applying would change nothing."""
        return not (
            self.new_workspaces
            or self.new_people
            or self.new_lines
            or self.team_changes
            or self.removed_lines
        )

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
        return out


class OrgFileError(Exception):
    """Raised when the file has problems; nothing was written."""

    def __init__(self, problems: list[RowProblem | str]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _check_id(value: str, column: str, line: int, problems: list[RowProblem]) -> None:
    if not value:
        problems.append(RowProblem(line, f"{column} is empty"))
    elif len(value) > MAX_ID_LENGTH:
        problems.append(RowProblem(line, f"{column} is longer than {MAX_ID_LENGTH} characters"))
    elif any(ch.isspace() for ch in value) or value.startswith(("<", "@")):
        problems.append(
            RowProblem(line, f"{column} {value!r} is not a platform user id (e.g. U0MEMBER01)")
        )


def parse_org_csv(text: str) -> list[OrgRow]:
    """Parse and validate the whole file, raising ``OrgFileError`` with every problem found."""
    text = text.removeprefix("\ufeff")  # spreadsheets often save a byte-order mark
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise OrgFileError(
            [f"the file is empty; the first line must be: {','.join(COLUMNS)}"]
        ) from None
    except csv.Error as exc:
        raise OrgFileError([f"line 1: not valid CSV ({exc})"]) from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    doubled = sorted({n for n in names if names.count(n) > 1})
    unknown = [n for n in names if n not in COLUMNS]
    if missing or unknown or doubled:
        parts = []
        if doubled:
            parts.append(f"repeated column(s) {', '.join(doubled)}")
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        raise OrgFileError(
            [
                f"line 1: {'; '.join(parts)}; expected header: {','.join(COLUMNS)}",
                f"example row: {EXAMPLE_ROW}",
            ]
        )
    index = {name: names.index(name) for name in names}
    rows: list[OrgRow] = []
    problems: list[RowProblem] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    platforms = {p.value for p in Platform}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(names):
                problems.append(RowProblem(line, f"has {len(cells)} fields, expected {len(names)}"))
                continue

            def cell(name: str, cells: list[str] = cells) -> str:
                return cells[index[name]].strip() if name in index else ""

            platform = cell("platform").lower()
            row_problems: list[RowProblem] = []
            if platform not in platforms:
                row_problems.append(
                    RowProblem(line, f"platform {platform!r} must be one of: slack, teams")
                )
            for column in ("workspace", "manager", "member"):
                _check_id(cell(column), column, line, row_problems)
            team = cell("team")
            if len(team) > MAX_TEAM_LENGTH:
                row_problems.append(
                    RowProblem(line, f"team is longer than {MAX_TEAM_LENGTH} characters")
                )
            if cell("manager") and cell("manager") == cell("member"):
                row_problems.append(RowProblem(line, "a person cannot report to themselves"))
            if row_problems:
                problems.extend(row_problems)
                continue
            row = OrgRow(line, platform, cell("workspace"), cell("manager"), cell("member"), team)
            key = (row.platform, row.workspace, row.manager, row.member)
            if key in seen:
                problems.append(RowProblem(line, f"repeats line {seen[key]}"))
                continue
            seen[key] = line
            rows.append(row)
    except csv.Error as exc:
        problems.append(RowProblem(reader.line_num, f"not valid CSV ({exc})"))
    if problems:
        raise OrgFileError(list(problems))
    if not rows:
        raise OrgFileError([f"the file has a header but no rows; example row: {EXAMPLE_ROW}"])
    return rows


async def _workspace(
    session: AsyncSession, platform: str, external_id: str, create: bool
) -> Workspace | None:
    found = await session.scalar(
        select(Workspace).where(
            Workspace.platform == platform, Workspace.external_id == external_id
        )
    )
    if found is None and create:
        found = Workspace(platform=platform, external_id=external_id)
        session.add(found)
        await session.flush()
    return found


async def _person(
    session: AsyncSession, workspace: Workspace | None, external_id: str, create: bool
) -> Person | None:
    if workspace is None:
        return None
    found = await session.scalar(
        select(Person).where(Person.workspace_id == workspace.id, Person.external_id == external_id)
    )
    if found is None and create:
        found = Person(workspace_id=workspace.id, external_id=external_id)
        session.add(found)
        await session.flush()
    return found


async def apply_org(
    session: AsyncSession, rows: Iterable[OrgRow], *, dry_run: bool, replace: bool = False
) -> ImportPlan:
    """Bring reporting lines in line with ``rows``; with ``dry_run`` only report what would change.

    The caller owns the transaction: commit to keep the changes, roll back otherwise.
    """
    plan = ImportPlan()
    create = not dry_run
    rows = list(rows)
    known_ws: set[tuple[str, str]] = set()
    known_people: set[tuple[str, str, str]] = set()
    wanted: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for row in rows:
        ws = await _workspace(session, row.platform, row.workspace, create=False)
        if ws is None and (row.platform, row.workspace) not in known_ws:
            plan.new_workspaces.append((row.platform, row.workspace))
        known_ws.add((row.platform, row.workspace))
        if create and ws is None:
            ws = await _workspace(session, row.platform, row.workspace, create=True)
        wanted.setdefault((row.platform, row.workspace), set()).add((row.manager, row.member))
        people: list[Person | None] = []
        for uid in (row.manager, row.member):
            person = await _person(session, ws, uid, create=False)
            if person is None and (row.platform, row.workspace, uid) not in known_people:
                plan.new_people.append((row.platform, row.workspace, uid))
            known_people.add((row.platform, row.workspace, uid))
            if create and person is None:
                person = await _person(session, ws, uid, create=True)
            people.append(person)
        manager, member = people
        line = None
        if manager is not None and member is not None:
            line = await session.scalar(
                select(ReportingLine).where(
                    ReportingLine.manager_id == manager.id, ReportingLine.member_id == member.id
                )
            )
        if line is None:
            plan.new_lines.append(row)
            if create and ws is not None and manager is not None and member is not None:
                session.add(
                    ReportingLine(
                        workspace_id=ws.id,
                        manager_id=manager.id,
                        member_id=member.id,
                        team=row.team,
                    )
                )
        elif line.team != row.team:
            plan.team_changes.append((row, line.team))
            if create:
                line.team = row.team
    if replace:
        await _plan_removals(session, wanted, plan, dry_run=dry_run)
    if create and not plan.is_empty:
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


async def _plan_removals(
    session: AsyncSession,
    wanted: dict[tuple[str, str], set[tuple[str, str]]],
    plan: ImportPlan,
    *,
    dry_run: bool,
) -> None:
    for (platform, ws_id), pairs in wanted.items():
        ws = await _workspace(session, platform, ws_id, create=False)
        if ws is None:
            continue
        lines = (
            await session.scalars(select(ReportingLine).where(ReportingLine.workspace_id == ws.id))
        ).all()
        for line in lines:
            manager = await session.get(Person, line.manager_id)
            member = await session.get(Person, line.member_id)
            assert manager is not None and member is not None
            if (manager.external_id, member.external_id) not in pairs:
                plan.removed_lines.append(
                    (platform, ws_id, manager.external_id, member.external_id)
                )
                if not dry_run:
                    await session.delete(line)
