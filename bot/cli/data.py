"""Read and change the store from the command line: import-org, preview, report, dashboard-link."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.cli.base import EXIT_USAGE, CommandFailed, on_store, settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from nudges.coaching.preview import PlannedItem


class ProgressBar:
    """Draw a one-line progress bar on a terminal; stay silent when output is redirected."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or not total:
            return
        width = 30
        filled = width * done // total
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r[{bar}] {done}/{total} rows")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        """End the bar's line, if one was drawn."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandFailed(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise CommandFailed(f"{path}: not UTF-8 text; save the CSV as UTF-8") from None
    except OSError as exc:
        raise CommandFailed(f"{path}: {exc.strerror}") from None


def import_org(args: argparse.Namespace) -> int:
    """Import reporting lines from a CSV file."""
    from nudges.people.org_file import OrgFileError, parse_org_csv
    from nudges.people.org_import import apply_org

    path = Path(args.file)
    text = _read_text(path)
    loaded = settings()
    bar = ProgressBar(sys.stderr)

    async def apply(session: AsyncSession) -> list[str]:
        plan = await apply_org(
            session,
            rows,
            dry_run=args.dry_run,
            replace=args.replace,
            defaults=loaded.workspace_defaults,
            progress=bar,
        )
        if args.dry_run:
            await session.rollback()
        else:
            await session.commit()
        if plan.is_empty:
            return [f"{len(rows)} rows read; nothing to change"]
        verb = "would change" if args.dry_run else "changed"
        details = plan.summary() if args.verbose else []
        return [*details, f"{len(rows)} rows read; {verb}: {plan.counts()}"]

    try:
        rows = parse_org_csv(text)
        try:
            lines = on_store(loaded, apply)
        finally:
            bar.close()
    except OrgFileError as exc:
        for problem in exc.problems:
            print(f"{path}: {problem}", file=sys.stderr)
        raise CommandFailed("nothing was imported; fix the lines above and run again") from None
    for line in lines:
        print(line)
    return 0


def preview(args: argparse.Namespace) -> int:
    """List a person's planned deliveries without sending anything."""
    from bot.sandbox import demo
    from nudges.coaching.preview import NoNudges, PreviewError
    from nudges.coaching.preview import preview as planned
    from nudges.content.catalogue import default_catalogue
    from nudges.ports import SystemClock

    if not 1 <= args.weeks <= 104:
        raise CommandFailed(
            "--weeks must be a whole number from 1 to 104, e.g. --weeks 8", EXIT_USAGE
        )
    loaded = settings()

    async def plan(session: AsyncSession) -> list[PlannedItem]:
        return await planned(
            session,
            default_catalogue(),
            SystemClock().now(),
            workspace_id=args.workspace,
            person_id=args.person,
            weeks=args.weeks,
            platform=args.platform,
            locale=args.language,
            # The sandbox's demo people have names; elsewhere the store knows only ids.
            name_of=demo.name_of if args.workspace == demo.WORKSPACE else None,
        )

    try:
        items = on_store(loaded, plan, expected=(PreviewError,))
    except NoNudges as exc:
        # Not a failure: the answer is "none", and why.
        print("[]" if args.json else str(exc))
        return 0
    if args.json:
        print(json.dumps([item.as_dict() for item in items], indent=2, ensure_ascii=False))
        return 0
    if not items:
        print("nothing planned in that period")
    for item in items:
        if item.status == "skipped":
            print(f"{item.local_time}  {item.utc_time} UTC  skipped: {item.moved_why}")
            continue
        moved = f" (moved: {item.moved})" if item.moved else ""
        print(f"{item.local_time}  {item.utc_time} UTC  {item.kind:<16} {item.nudge_key}{moved}")
        print(f"    {item.title}")
        if item.action:
            print(f"    {item.action}")
        print(f"    {item.status}; {item.reason}")
        if item.moved_why:
            print(f"    {item.moved_why}")
    return 0


def report(args: argparse.Namespace) -> int:
    """Print pulse results over time as CSV or JSON, only what the threshold allows."""
    from nudges.ports import SystemClock
    from nudges.pulse import report as pulse_report

    loaded = settings()

    async def build(session: AsyncSession) -> list[pulse_report.ReportRow]:
        workspace = await pulse_report.find_workspace(session, args.workspace, args.platform)
        return await pulse_report.build_report(session, workspace, team=args.team)

    rows = on_store(loaded, build, expected=(pulse_report.ReportError,))
    if args.format == "json":
        text = pulse_report.to_json(rows, generated_at=SystemClock().now()) + "\n"
    else:
        text = pulse_report.to_csv(rows)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandFailed(f"{args.output}: {exc.strerror}") from None
    else:
        sys.stdout.write(text)
    return 0


def dashboard_link(args: argparse.Namespace) -> int:
    """Print a short-lived sign-in link to the dashboard for one admin."""
    from bot.dashboard.access import Passes
    from bot.dashboard.site import signin_link
    from nudges.people import directory

    loaded = settings()
    if not loaded.nudgebot_secret_key:
        raise CommandFailed(
            "dashboard links are sealed with NUDGEBOT_SECRET_KEY: set it to the running "
            "service's key (make one with `nudgebot generate-key`)"
        )

    async def link(session: AsyncSession) -> str:
        workspace = await directory.workspace_by_external_id(session, args.workspace, args.platform)
        person = await directory.find_person(session, workspace.id, args.person)
        if person is None or not person.is_admin:
            raise CommandFailed(
                f"{args.person!r} is not an admin of workspace {args.workspace!r}; "
                f"make them one with `/nudges admins add @them` first"
            )
        passes = Passes(loaded.nudgebot_secret_key)
        return signin_link(passes, loaded.public_url, workspace.id, person.external_id)

    print(on_store(loaded, link, expected=(directory.WorkspaceLookupError,)))
    return 0
