"""Offer the ``nudgebot`` command line: serve, migrate, import-org and friends.

Every command is one row of ``COMMANDS``: its name, help, options and handler. A handler takes
the parsed arguments and returns the exit code, or raises ``CommandFailed`` to end with one line
on standard error; ``bot.cli.base`` holds what handlers share (settings, the store).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot import __version__
from bot.cli import data, service, setup
from bot.cli.base import EXIT_USAGE, CommandFailed
from bot.dashboard.access import LINK_MINUTES

__all__ = ["COMMANDS", "Command", "build_parser", "main"]


@dataclass(frozen=True)
class Option:
    """One argument of a command, as ``argparse.add_argument`` takes it."""

    flags: tuple[str, ...]
    settings: dict[str, Any]


def option(*flags: str, **settings: Any) -> Option:
    """Describe one argument of a command."""
    return Option(flags, settings)


@dataclass(frozen=True)
class Command:
    """One subcommand: how ``--help`` describes it, what it takes, and what runs it."""

    name: str
    help: str
    description: str
    run: Callable[[argparse.Namespace], int]
    options: tuple[Option, ...] = field(default=())


_WORKSPACE = option("--workspace", required=True, help="workspace id, e.g. T0123ABCD")

COMMANDS: tuple[Command, ...] = (
    Command(
        "serve",
        help="run the service (HTTP on PORT)",
        description="Run the web service: /healthz, /readyz, /metrics and the enabled platforms. "
        "On the embedded SQLite default the schema is created on first start.",
        run=service.serve,
        options=(
            option(
                "--no-scheduler",
                action="store_true",
                help="serve HTTP only; run `nudgebot scheduler` in another process",
            ),
            option(
                "--migrate",
                action="store_true",
                help="on PostgreSQL, bring the schema to head before serving; replicas started "
                "at once migrate it once (a lock), the others wait",
            ),
        ),
    ),
    Command(
        "scheduler",
        help="run only the scheduler (no HTTP)",
        description="Run the tick that plans and sends due messages, without the web server. "
        "On PostgreSQL only one scheduler is active at a time; others wait on standby.",
        run=service.scheduler,
    ),
    Command(
        "preview",
        help="list a person's planned nudges without sending anything",
        description="Show the nudges a person would really get in the coming weeks, computed as "
        "the real send does: local and UTC time, kind, nudge key, title and action in their "
        "language (mentions as @id), status and reason. Someone nobody reports to gets none.",
        run=data.preview,
        options=(
            _WORKSPACE,
            option("--person", required=True, help="platform user id, e.g. U0MANAGER1"),
            option("--weeks", type=int, default=8, help="how many weeks ahead (default 8)"),
            option(
                "--platform", choices=["slack", "teams", "sandbox"], help="when the id is ambiguous"
            ),
            option(
                "--language",
                choices=["en", "nl"],
                help="language of the texts (default: the person's own)",
            ),
            option("--json", action="store_true", help="print JSON instead of text"),
        ),
    ),
    Command(
        "report",
        help="export pulse results over time as CSV or JSON",
        description="Export pulse results per poll (and, for a whole workspace, per period). "
        "A result below the anonymity threshold shows only how many answered. CSV cells that "
        "a spreadsheet would run as a formula start with an apostrophe.",
        run=data.report,
        options=(
            _WORKSPACE,
            option("--team", help="only this team, e.g. Platform"),
            option("--platform", choices=["slack", "teams"], help="when the id is ambiguous"),
            option("--format", choices=["csv", "json"], default="csv", help="default csv"),
            option("--output", metavar="FILE", help="write to FILE instead of standard output"),
        ),
    ),
    Command(
        "migrate",
        help="upgrade the database schema to the newest revision",
        description="Upgrade the database at DATABASE_URL to the newest schema revision.",
        run=service.migrate,
    ),
    Command(
        "import-org",
        help="import who reports to whom from a CSV file",
        description="Import reporting lines. Columns: platform,workspace,manager,member,team "
        "(platform user ids). Every row is checked first; on any problem nothing is written. "
        "Importing the same file twice changes nothing.",
        run=data.import_org,
        options=(
            option("file", metavar="FILE.csv", help="the CSV file"),
            option("--dry-run", action="store_true", help="show what would change, write nothing"),
            option("--verbose", action="store_true", help="print every change, one line each"),
            option(
                "--replace",
                action="store_true",
                help="also remove reporting lines of the file's workspaces that the file does "
                "not list",
            ),
        ),
    ),
    Command(
        "dashboard-link",
        help="print a short-lived sign-in link to the dashboard for an admin",
        description=f"Print a link to /dashboard that signs one admin in (valid for "
        f"{LINK_MINUTES} minutes). Links start at NUDGEBOT_PUBLIC_URL and need "
        "NUDGEBOT_SECRET_KEY, the same key as the running service.",
        run=data.dashboard_link,
        options=(
            _WORKSPACE,
            option("--person", required=True, help="the admin's platform id, e.g. U0ADMIN01"),
            option("--platform", choices=["slack", "teams"], help="when the id is ambiguous"),
        ),
    ),
    Command(
        "doctor",
        help="check settings, database and platforms, and say what to fix",
        description="Check every setting, the database (reachable, at head, writable), each "
        "configured platform (Slack: the tokens with auth.test and apps.connections.open, the "
        "granted scopes against the manifest, the signing secret's shape) and the clock, then "
        "print a table. Exits 0 only when everything configured works.",
        run=setup.doctor,
    ),
    Command(
        "teams-package",
        help="build the Teams app package (a zip to upload to Teams)",
        description="Build the Teams app package: manifest.json (schema 1.22, the bot in personal "
        "chat and teams, its command list) and the two icons, zipped as Teams expects.",
        run=setup.teams_package,
        options=(
            option(
                "--app-id",
                required=True,
                help="the bot's Microsoft App ID (MICROSOFT_APP_ID), e.g. "
                "00000000-0000-0000-0000-000000000000",
            ),
            option("--name", default="Nudgebot", help="the app's name in Teams (default Nudgebot)"),
            option(
                "--domain", help="the public host name of this service, e.g. nudgebot.example.com"
            ),
            option(
                "--website-url",
                help="https page about your installation (default: https://DOMAIN/)",
            ),
            option(
                "--no-chat-read",
                action="store_true",
                help="leave out the permission to read the bot's own chats (used to avoid "
                "duplicates when Teams' answer to a send is lost)",
            ),
            option(
                "--out",
                default="nudgebot-teams.zip",
                help="where to write (default nudgebot-teams.zip)",
            ),
        ),
    ),
    Command(
        "generate-key",
        help="print a new NUDGEBOT_SECRET_KEY",
        description="Print a new random key for NUDGEBOT_SECRET_KEY (encrypts bot tokens at rest).",
        run=setup.generate_key,
    ),
)


def build_parser() -> argparse.ArgumentParser:
    """Describe every subcommand and its options, from ``COMMANDS``."""
    parser = argparse.ArgumentParser(
        prog="nudgebot",
        description="Self-hosted Slack and Teams bot that nudges managers towards small moments "
        "of connection. Settings come from the environment (see .env.example).",
    )
    parser.add_argument("--version", action="version", version=f"nudgebot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        child = sub.add_parser(command.name, help=command.help, description=command.description)
        for each in command.options:
            child.add_argument(*each.flags, **each.settings)
        child.set_defaults(func=command.run)
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
    except CommandFailed as exc:
        print(f"nudgebot: {exc}", file=sys.stderr)
        return exc.code
    return code
