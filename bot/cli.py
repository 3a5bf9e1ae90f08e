"""Offer the ``nudgebot`` command line: serve, migrate, import-org and friends."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot import __version__
from bot.dashboard.access import LINK_MINUTES

if TYPE_CHECKING:
    from bot.doctor import PlatformDoctor
    from bot.settings import Settings
    from nudges.coaching.preview import PlannedItem
    from nudges.store.database import Database

# Each command imports what it needs when it runs, so `--help` and the light commands start in a
# fraction of the time the whole service (both platform SDKs) takes to import.

EXIT_USAGE = 2
EXIT_FAILURE = 1


def platform_doctors() -> list[PlatformDoctor]:
    """Return each platform's own checks for `nudgebot doctor`; a new platform adds its line."""
    from bot.slack.doctor import slack_findings
    from bot.teams.doctor import teams_findings

    return [slack_findings, teams_findings]


def _fail(message: str, code: int = EXIT_FAILURE) -> int:
    print(f"nudgebot: {message}", file=sys.stderr)
    return code


def _database_down(settings: Settings, exc: Exception) -> int:
    from nudges.store.database import normalize_url

    # The same one line as `serve`, without the password.
    url = normalize_url(settings.database_url).render_as_string(hide_password=True)
    reason = str(getattr(exc, "orig", exc)).splitlines()[0]
    return _fail(f"cannot reach the database at {url}: {reason}")


def _settings() -> Settings:
    from bot.logs import configure_logging
    from bot.settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _run(*, web_server: bool, scheduler: bool) -> int:
    settings = _settings()
    # Imported once the settings are known good: a configuration mistake is reported at once.
    from bot.app import run_service
    from bot.startup import StartupError

    try:
        asyncio.run(run_service(settings, web_server=web_server, scheduler=scheduler))
    except StartupError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        pass
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the web service (and the scheduler unless told not to)."""
    return _run(web_server=True, scheduler=not args.no_scheduler)


async def _migrate(settings: Settings) -> str:
    from nudges.store.database import Database
    from nudges.store.migrate import current_revision, upgrade

    db = Database(settings.database_url)
    try:
        before = await current_revision(db.engine)
        await upgrade(db.engine)
        after = await current_revision(db.engine)
    finally:
        await db.dispose()
    if before == after:
        return f"schema already at {after}"
    return f"schema upgraded from {before or 'empty'} to {after}"


def cmd_migrate(_args: argparse.Namespace) -> int:
    """Upgrade the database schema to head."""
    settings = _settings()
    try:
        print(asyncio.run(_migrate(settings)))
    except Exception as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        return _fail(f"migration failed: {reason}")
    return 0


async def _open_store(settings: Settings) -> Database:
    """Open the store the way ``serve`` does: SQLite is brought to head, PostgreSQL must be."""
    from bot.startup import prepare_database

    return await prepare_database(settings)


class _ProgressBar:
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
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


async def _import_org(
    settings: Settings, text: str, dry_run: bool, replace: bool, verbose: bool
) -> list[str]:
    from nudges.people.org_import import apply_org, parse_org_csv

    rows = parse_org_csv(text)
    db = await _open_store(settings)
    bar = _ProgressBar(sys.stderr)
    try:
        async with db.session() as session:
            plan = await apply_org(
                session,
                rows,
                dry_run=dry_run,
                replace=replace,
                defaults=settings.workspace_defaults,
                progress=bar,
            )
            if dry_run:
                await session.rollback()
            else:
                await session.commit()
    finally:
        bar.close()
        await db.dispose()
    if plan.is_empty:
        return [f"{len(rows)} rows read; nothing to change"]
    verb = "would change" if dry_run else "changed"
    details = plan.summary() if verbose else []
    return [*details, f"{len(rows)} rows read; {verb}: {plan.counts()}"]


def cmd_import_org(args: argparse.Namespace) -> int:
    """Import reporting lines from a CSV file."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.startup import StartupError
    from nudges.people.org_import import OrgFileError

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return _fail(f"{path}: no such file")
    except UnicodeDecodeError:
        return _fail(f"{path}: not UTF-8 text; save the CSV as UTF-8")
    except OSError as exc:
        return _fail(f"{path}: {exc.strerror}")
    settings = _settings()
    try:
        lines = asyncio.run(_import_org(settings, text, args.dry_run, args.replace, args.verbose))
        for line in lines:
            print(line)
    except OrgFileError as exc:
        for problem in exc.problems:
            print(f"{path}: {problem}", file=sys.stderr)
        return _fail("nothing was imported; fix the lines above and run again")
    except StartupError as exc:
        return _fail(str(exc))
    except (OSError, SQLAlchemyError) as exc:
        return _database_down(settings, exc)
    return 0


def cmd_scheduler(_args: argparse.Namespace) -> int:
    """Run only the scheduler."""
    return _run(web_server=False, scheduler=True)


async def _preview(settings: Settings, args: argparse.Namespace) -> list[PlannedItem]:
    from bot.sandbox import demo
    from nudges.coaching.preview import preview
    from nudges.content.catalogue import default_catalogue
    from nudges.ports import SystemClock

    db = await _open_store(settings)
    try:
        async with db.session() as session:
            return await preview(
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
    finally:
        await db.dispose()


def cmd_preview(args: argparse.Namespace) -> int:
    """List a person's planned deliveries without sending anything."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.startup import StartupError
    from nudges.coaching.preview import NoNudges, PreviewError

    if not 1 <= args.weeks <= 104:
        return _fail("--weeks must be a whole number from 1 to 104, e.g. --weeks 8", EXIT_USAGE)
    settings = _settings()
    try:
        items = asyncio.run(_preview(settings, args))
    except NoNudges as exc:
        # Not a failure: the answer is "none", and why.
        print("[]" if args.json else str(exc))
        return 0
    except (PreviewError, StartupError) as exc:
        return _fail(str(exc))
    except (OSError, SQLAlchemyError) as exc:
        return _database_down(settings, exc)
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


async def _report(settings: Settings, args: argparse.Namespace) -> str:
    from nudges.ports import SystemClock
    from nudges.pulse import report as pulse_report

    db = await _open_store(settings)
    try:
        async with db.session() as session:
            workspace = await pulse_report.find_workspace(session, args.workspace, args.platform)
            rows = await pulse_report.build_report(session, workspace, team=args.team)
    finally:
        await db.dispose()
    if args.format == "json":
        return pulse_report.to_json(rows, generated_at=SystemClock().now()) + "\n"
    return pulse_report.to_csv(rows)


def cmd_report(args: argparse.Namespace) -> int:
    """Print pulse results over time as CSV or JSON, only what the threshold allows."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.startup import StartupError
    from nudges.pulse import report as pulse_report

    settings = _settings()
    try:
        text = asyncio.run(_report(settings, args))
    except (pulse_report.ReportError, StartupError) as exc:
        return _fail(str(exc))
    except (OSError, SQLAlchemyError) as exc:
        return _database_down(settings, exc)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            return _fail(f"{args.output}: {exc.strerror}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_doctor(_args: argparse.Namespace) -> int:
    """Check settings, database and every configured platform; print what to fix."""
    from bot.doctor import render as render_findings
    from bot.doctor import run_doctor
    from bot.logs import configure_logging
    from bot.settings import load_settings

    settings = load_settings()
    # The table is the output; log lines from the checks would only interleave with it.
    configure_logging("ERROR", settings.log_format)
    findings = asyncio.run(run_doctor(settings, platform_doctors()))
    print(render_findings(findings))
    return 0 if all(f.ok for f in findings) else EXIT_FAILURE


async def _dashboard_link(settings: Settings, args: argparse.Namespace) -> str:
    from bot.dashboard.access import Passes
    from bot.dashboard.site import signin_link
    from bot.startup import StartupError
    from nudges.people import directory

    db = await _open_store(settings)
    try:
        async with db.session() as session:
            workspace = await directory.workspace_by_external_id(
                session, args.workspace, args.platform
            )
            person = await directory.find_person(session, workspace.id, args.person)
            if person is None or not person.is_admin:
                raise StartupError(
                    f"{args.person!r} is not an admin of workspace {args.workspace!r}; "
                    f"make them one with `/nudges admins add @them` first"
                )
            passes = Passes(settings.nudgebot_secret_key)
            return signin_link(passes, settings.public_url, workspace.id, person.external_id)
    finally:
        await db.dispose()


def cmd_dashboard_link(args: argparse.Namespace) -> int:
    """Print a short-lived sign-in link to the dashboard for one admin."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.startup import StartupError
    from nudges.people import directory

    settings = _settings()
    if not settings.nudgebot_secret_key:
        return _fail(
            "dashboard links are sealed with NUDGEBOT_SECRET_KEY: set it to the running "
            "service's key (make one with `nudgebot generate-key`)"
        )
    try:
        print(asyncio.run(_dashboard_link(settings, args)))
    except (directory.WorkspaceLookupError, StartupError) as exc:
        return _fail(str(exc))
    except (OSError, SQLAlchemyError) as exc:
        return _database_down(settings, exc)
    return 0


def cmd_generate_key(_args: argparse.Namespace) -> int:
    """Print a new NUDGEBOT_SECRET_KEY."""
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())
    return 0


def cmd_teams_package(args: argparse.Namespace) -> int:
    """Write the Teams app package (manifest and icons) for uploading to Teams."""
    from bot.teams.package import PackageError, PackageOptions, write_package

    options = PackageOptions(
        app_id=args.app_id.strip(),
        name=args.name,
        domain=args.domain,
        website_url=args.website_url,
        chat_read=not args.no_chat_read,
    )
    try:
        out = write_package(options, Path(args.out))
    except PackageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except OSError as exc:
        return _fail(f"{args.out}: {exc.strerror}")
    print(f"wrote {out}: upload it in Teams (Apps > Manage your apps > Upload an app)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Describe every subcommand and its options."""
    parser = argparse.ArgumentParser(
        prog="nudgebot",
        description="Self-hosted Slack and Teams bot that nudges managers towards small moments "
        "of connection. Settings come from the environment (see .env.example).",
    )
    parser.add_argument("--version", action="version", version=f"nudgebot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the service (HTTP on PORT)",
        description="Run the web service: /healthz, /readyz, /metrics and the enabled platforms. "
        "On the embedded SQLite default the schema is created on first start.",
    )
    serve.add_argument(
        "--no-scheduler",
        action="store_true",
        help="serve HTTP only; run `nudgebot scheduler` in another process",
    )
    serve.set_defaults(func=cmd_serve)

    sched = sub.add_parser(
        "scheduler",
        help="run only the scheduler (no HTTP)",
        description="Run the tick that plans and sends due messages, without the web server. "
        "On PostgreSQL only one scheduler is active at a time; others wait on standby.",
    )
    sched.set_defaults(func=cmd_scheduler)

    prev = sub.add_parser(
        "preview",
        help="list a person's planned nudges without sending anything",
        description="Show the nudges a person would really get in the coming weeks, computed as "
        "the real send does: local and UTC time, kind, nudge key, title and action in their "
        "language (mentions as @id), status and reason. Someone nobody reports to gets none.",
    )
    prev.add_argument("--workspace", required=True, help="workspace id, e.g. T0123ABCD")
    prev.add_argument("--person", required=True, help="platform user id, e.g. U0MANAGER1")
    prev.add_argument("--weeks", type=int, default=8, help="how many weeks ahead (default 8)")
    prev.add_argument(
        "--platform", choices=["slack", "teams", "sandbox"], help="when the id is ambiguous"
    )
    prev.add_argument(
        "--language",
        choices=["en", "nl"],
        help="language of the texts (default: the person's own)",
    )
    prev.add_argument("--json", action="store_true", help="print JSON instead of text")
    prev.set_defaults(func=cmd_preview)

    rep = sub.add_parser(
        "report",
        help="export pulse results over time as CSV or JSON",
        description="Export pulse results per poll (and, for a whole workspace, per period). "
        "A result below the anonymity threshold shows only how many answered. CSV cells that "
        "a spreadsheet would run as a formula start with an apostrophe.",
    )
    rep.add_argument("--workspace", required=True, help="workspace id, e.g. T0123ABCD")
    rep.add_argument("--team", help="only this team, e.g. Platform")
    rep.add_argument("--platform", choices=["slack", "teams"], help="when the id is ambiguous")
    rep.add_argument("--format", choices=["csv", "json"], default="csv", help="default csv")
    rep.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    rep.set_defaults(func=cmd_report)

    migrate = sub.add_parser(
        "migrate",
        help="upgrade the database schema to the newest revision",
        description="Upgrade the database at DATABASE_URL to the newest schema revision.",
    )
    migrate.set_defaults(func=cmd_migrate)

    imp = sub.add_parser(
        "import-org",
        help="import who reports to whom from a CSV file",
        description="Import reporting lines. Columns: platform,workspace,manager,member,team "
        "(platform user ids). Every row is checked first; on any problem nothing is written. "
        "Importing the same file twice changes nothing.",
    )
    imp.add_argument("file", metavar="FILE.csv", help="the CSV file")
    imp.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
    imp.add_argument("--verbose", action="store_true", help="print every change, one line each")
    imp.add_argument(
        "--replace",
        action="store_true",
        help="also remove reporting lines of the file's workspaces that the file does not list",
    )
    imp.set_defaults(func=cmd_import_org)

    link = sub.add_parser(
        "dashboard-link",
        help="print a short-lived sign-in link to the dashboard for an admin",
        description=f"Print a link to /dashboard that signs one admin in (valid for "
        f"{LINK_MINUTES} minutes). Links start at NUDGEBOT_PUBLIC_URL and need "
        "NUDGEBOT_SECRET_KEY, the same key as the running service.",
    )
    link.add_argument("--workspace", required=True, help="workspace id, e.g. T0123ABCD")
    link.add_argument("--person", required=True, help="the admin's platform id, e.g. U0ADMIN01")
    link.add_argument("--platform", choices=["slack", "teams"], help="when the id is ambiguous")
    link.set_defaults(func=cmd_dashboard_link)

    doctor = sub.add_parser(
        "doctor",
        help="check settings, database and platforms, and say what to fix",
        description="Check every setting, the database (reachable, at head, writable), each "
        "configured platform (Slack: the tokens with auth.test and apps.connections.open, the "
        "granted scopes against the manifest, the signing secret's shape) and the clock, then "
        "print a table. Exits 0 only when everything configured works.",
    )
    doctor.set_defaults(func=cmd_doctor)

    pkg = sub.add_parser(
        "teams-package",
        help="build the Teams app package (a zip to upload to Teams)",
        description="Build the Teams app package: manifest.json (schema 1.22, the bot in personal "
        "chat and teams, its command list) and the two icons, zipped as Teams expects.",
    )
    pkg.add_argument(
        "--app-id",
        required=True,
        help="the bot's Microsoft App ID (MICROSOFT_APP_ID), e.g. "
        "00000000-0000-0000-0000-000000000000",
    )
    pkg.add_argument(
        "--name", default="Nudgebot", help="the app's name in Teams (default Nudgebot)"
    )
    pkg.add_argument(
        "--domain", help="the public host name of this service, e.g. nudgebot.example.com"
    )
    pkg.add_argument(
        "--website-url", help="https page about your installation (default: https://DOMAIN/)"
    )
    pkg.add_argument(
        "--no-chat-read",
        action="store_true",
        help="leave out the permission to read the bot's own chats (used to avoid duplicates "
        "when Teams' answer to a send is lost)",
    )
    pkg.add_argument(
        "--out", default="nudgebot-teams.zip", help="where to write (default nudgebot-teams.zip)"
    )
    pkg.set_defaults(func=cmd_teams_package)

    key = sub.add_parser(
        "generate-key",
        help="print a new NUDGEBOT_SECRET_KEY",
        description="Print a new random key for NUDGEBOT_SECRET_KEY (encrypts bot tokens at rest).",
    )
    key.set_defaults(func=cmd_generate_key)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    from bot.settings import SettingsError

    try:
        code: int = args.func(args)
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"nudgebot: configuration: {problem}", file=sys.stderr)
        return EXIT_USAGE
    return code


if __name__ == "__main__":
    sys.exit(main())
