"""Read the org-chart CSV file: check every row and report every problem at once, with examples."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time

from nudges.domain import Platform
from nudges.scheduling.countries import is_supported_country
from nudges.scheduling.workweek import WorkWeekError, parse_days, parse_hours

COLUMNS = ("platform", "workspace", "manager", "member", "team", "workdays", "hours", "country")
REQUIRED = ("platform", "workspace", "manager", "member")
MAX_ID_LENGTH = 128
MAX_TEAM_LENGTH = 100
EXAMPLE_ROW = "slack,T0123ABCD,U0MANAGER1,U0MEMBER01,Team Blue"
# The optional columns describe the row's member: their working days, hours and holiday country.
WEEK_EXAMPLES = {
    "workdays": "mon-thu (or sun-thu, or mon,tue,thu,fri)",
    "hours": "08:30-16:30",
    "country": "BE (or a region such as DE-BY)",
}


@dataclass(frozen=True)
class OrgRow:
    """One valid row of the org file."""

    line: int
    platform: str
    workspace: str
    manager: str
    member: str
    team: str
    week: MemberWeek | None = None


@dataclass(frozen=True)
class MemberWeek:
    """What a row's optional columns say about its member; None where a cell is empty."""

    days: frozenset[int] | None
    hours: tuple[time, time] | None
    country: str | None


@dataclass(frozen=True)
class RowProblem:
    """A problem with one line of the file."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


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


def _has_control_character(value: str) -> bool:
    return any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in value)


def _repeat_problem(row: OrgRow, earlier: OrgRow) -> RowProblem:
    if earlier.team == row.team:
        return RowProblem(row.line, f"repeats line {earlier.line}")
    return RowProblem(
        row.line,
        f"{row.member} under {row.manager} is already on line {earlier.line} with team "
        f"{earlier.team or '(none)'!r}, here with team {row.team or '(none)'!r}; a reporting "
        "line has one team: keep one of the two lines",
    )


def _member_week(
    cell: Callable[[str], str], line: int, problems: list[RowProblem]
) -> MemberWeek | None:
    """Read the optional workdays, hours and country cells, noting what cannot be read."""
    days_text, hours_text, country_text = cell("workdays"), cell("hours"), cell("country")
    if not (days_text or hours_text or country_text):
        return None
    days = hours = country = None
    try:
        days = parse_days(days_text.replace(" ", "")) if days_text else None
    except WorkWeekError:
        problems.append(_week_problem(line, "workdays", days_text))
    try:
        hours = parse_hours(hours_text) if hours_text else None
    except WorkWeekError:
        problems.append(_week_problem(line, "hours", hours_text))
    if country_text:
        if is_supported_country(country_text):
            country = country_text.upper()
        else:
            problems.append(_week_problem(line, "country", country_text))
    return MemberWeek(days, hours, country)


def _week_problem(line: int, column: str, value: str) -> RowProblem:
    example = WEEK_EXAMPLES[column]
    return RowProblem(line, f"{column} {value!r} cannot be read; write e.g. {example}")


def _week_conflicts(rows: list[OrgRow]) -> list[RowProblem]:
    """Refuse a member whose working week or country differs between two rows."""
    first: dict[tuple[str, str, str], OrgRow] = {}
    problems = []
    for row in rows:
        if row.week is None:
            continue
        key = (row.platform, row.workspace, row.member)
        earlier = first.setdefault(key, row)
        if earlier is not row and earlier.week != row.week:
            problems.append(
                RowProblem(
                    row.line,
                    f"{row.member}'s workdays, hours or country differ from line {earlier.line}; "
                    "give them once, or the same on every line",
                )
            )
    return problems


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
    seen: dict[tuple[str, str, str, str], OrgRow] = {}
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
            for column in COLUMNS:
                if _has_control_character(cell(column)):
                    row_problems.append(
                        RowProblem(
                            line,
                            f"{column} contains a control character (a line break or tab "
                            "inside quotes?); write it on one line, e.g. Team Blue",
                        )
                    )
            if len(team) > MAX_TEAM_LENGTH:
                row_problems.append(
                    RowProblem(line, f"team is longer than {MAX_TEAM_LENGTH} characters")
                )
            if cell("manager") and cell("manager") == cell("member"):
                row_problems.append(RowProblem(line, "a person cannot report to themselves"))
            week = _member_week(cell, line, row_problems)
            if row_problems:
                problems.extend(row_problems)
                continue
            row = OrgRow(
                line, platform, cell("workspace"), cell("manager"), cell("member"), team, week
            )
            key = (row.platform, row.workspace, row.manager, row.member)
            if key in seen:
                problems.append(_repeat_problem(row, seen[key]))
                continue
            seen[key] = row
            rows.append(row)
    except csv.Error as exc:
        problems.append(RowProblem(reader.line_num, f"not valid CSV ({exc})"))
    problems.extend(_week_conflicts(rows))
    if problems:
        raise OrgFileError(list(problems))
    if not rows:
        raise OrgFileError([f"the file has a header but no rows; example row: {EXAMPLE_ROW}"])
    return rows
