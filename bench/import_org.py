"""Time `nudgebot import-org` of a large org file, and its re-import, on SQLite and PostgreSQL.

Usage: .venv/bin/python bench/import_org.py [--rows 50000] [--only sqlite,pg] [--timeout 900]

Writes a CSV of --rows reporting lines (one manager per 10 members, in named teams), runs the
real command into a scratch database, then runs it again on the unchanged file. Prints the wall
time of each run next to the target, and how many lines each run printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from _common import DEFAULT_PG, ROOT, scratch_database, table

TARGET = 30.0


def write_csv(path: Path, rows: int) -> None:
    """Write ``rows`` reporting lines: manager i leads members 10i..10i+9 in team i."""
    lines = ["platform,workspace,manager,member,team"]
    for i in range(rows):
        manager = i // 10
        lines.append(f"slack,T0IMPORT1,UM{manager:08d},UP{i:08d},Team {manager}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def run_import(url: str, csv: Path, limit: float) -> tuple[float | None, int, int]:
    """Run import-org once; return (seconds or None on timeout, exit code, lines printed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=url)
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "import-org",
        str(csv),
        cwd=csv.parent,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), limit)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return None, -1, 0
    elapsed = time.monotonic() - started
    text = out.decode(errors="replace")
    if proc.returncode:
        print(text[-2000:])
    return elapsed, proc.returncode or 0, len(text.splitlines())


async def main(args: argparse.Namespace) -> None:
    """Import, re-import, print the table."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        work = Path(tmp)
        csv = work / "org.csv"
        write_csv(csv, args.rows)
        for kind in args.only.split(","):
            url = await scratch_database(kind, args.pg_url, work)
            label = "SQLite" if kind == "sqlite" else "PostgreSQL"
            for run in ("import", "re-import (unchanged)"):
                took, code, printed = await run_import(url, csv, args.timeout)
                shown = f"{took:.1f} s" if took is not None else f"> {args.timeout:.0f} s"
                rows.append([label, run, shown, f"< {TARGET:.0f} s", code, printed])
                print(rows[-1], flush=True)
                if took is None:
                    break
    print()
    print(f"import-org: {args.rows} rows ({args.rows // 10} managers, {args.rows} members)")
    print(table(["store", "run", "time", "target", "exit", "lines printed"], rows))


def parse() -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--only", default="sqlite,pg")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    parser.add_argument("--quick", action="store_true", help="5,000 rows")
    args = parser.parse_args()
    if args.quick:
        args.rows = 5000
    return args


if __name__ == "__main__":
    asyncio.run(main(parse()))
