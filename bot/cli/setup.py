"""Set an installation up from the command line: ``doctor``, ``generate-key``, ``teams-package``."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.base import EXIT_FAILURE, EXIT_USAGE, CommandFailed

if TYPE_CHECKING:
    from bot.doctor import PlatformDoctor


def platform_doctors() -> list[PlatformDoctor]:
    """Return each platform's own checks for `nudgebot doctor`; a new platform adds its line."""
    from bot.slack.doctor import slack_findings
    from bot.teams.doctor import teams_findings

    return [slack_findings, teams_findings]


def doctor(_args: argparse.Namespace) -> int:
    """Check settings, database and every configured platform; print what to fix."""
    from bot.doctor import render as render_findings
    from bot.doctor import run_doctor
    from bot.logs import configure_logging
    from bot.settings import load_settings

    loaded = load_settings()
    # The table is the output; log lines from the checks would only interleave with it.
    configure_logging("ERROR", loaded.log_format)
    findings = asyncio.run(run_doctor(loaded, platform_doctors()))
    print(render_findings(findings))
    return 0 if all(f.ok for f in findings) else EXIT_FAILURE


def generate_key(_args: argparse.Namespace) -> int:
    """Print a new NUDGEBOT_SECRET_KEY."""
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())
    return 0


def teams_package(args: argparse.Namespace) -> int:
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
        raise CommandFailed(str(exc), EXIT_USAGE) from None
    except OSError as exc:
        raise CommandFailed(f"{args.out}: {exc.strerror}") from None
    print(f"wrote {out}: upload it in Teams (Apps > Manage your apps > Upload an app)")
    return 0
