from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.bot.cli_runner import clean_env, run_cli
from tests.conftest import BACKEND
from tests.ports import free_port

CLI = [sys.executable, "-m", "bot.cli"]
ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Return the environment of a separate `nudgebot` process: clean, with the repo importable."""
    return clean_env(**{"PYTHONPATH": str(ROOT), **extra})


# Commands that run until stopped, and the entry point's own flags, get a real process; the
# others run in this one (see tests/bot/cli_runner.py), a second of imports cheaper each.
OWN_PROCESS = {"serve", "scheduler"}


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    if not args or args[0] in OWN_PROCESS or args[0].startswith("-") or "--help" in args:
        return subprocess.run(
            [*CLI, *args], cwd=tmp_path, env=_env(tmp_path, **env), capture_output=True, text=True
        )
    return run_cli(tmp_path, *args, **env)


def test_version_and_help(tmp_path: Path) -> None:
    out = run(tmp_path, "--version")
    assert out.returncode == 0
    assert out.stdout.startswith("nudgebot ")
    top = run(tmp_path, "--help")
    for command in ("serve", "scheduler", "migrate", "import-org", "preview", "generate-key"):
        assert command in top.stdout
        sub = run(tmp_path, command, "--help")
        assert sub.returncode == 0, sub.stderr
        assert "usage: nudgebot " + command in sub.stdout


def test_no_command_prints_help(tmp_path: Path) -> None:
    out = run(tmp_path)
    assert out.returncode == 2
    assert "usage: nudgebot" in out.stdout


def test_bad_settings_give_one_line_each_and_no_traceback(tmp_path: Path) -> None:
    out = run(tmp_path, "serve", PORT="eighty", SLACK_BOT_TOKEN="xoxp-oops")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("nudgebot: configuration: PORT:")
    assert "Traceback" not in out.stderr


def test_serve_answers_health_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    db = tmp_path / "data" / "bot.sqlite3"
    proc = subprocess.Popen(
        [*CLI, "serve"],
        cwd=tmp_path,
        env=_env(tmp_path, PORT=str(port), DATABASE_URL=f"sqlite:///{db}"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    assert r.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            assert b'"ready"' in r.read()
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "slack: off" in output
    assert "teams: off" in output
    assert "stopped" in output
    assert db.exists()


@pytest.mark.skipif(BACKEND != "postgres", reason="the refusal applies to PostgreSQL")
def test_serve_refuses_an_out_of_date_postgres_schema(
    tmp_path: Path, empty_database_url: str
) -> None:
    out = run(tmp_path, "serve", DATABASE_URL=empty_database_url, PORT=str(free_port()))
    assert out.returncode == 1
    assert "run `nudgebot migrate` first" in out.stderr
    migrated = run(tmp_path, "migrate", DATABASE_URL=empty_database_url)
    assert migrated.returncode == 0, migrated.stderr
    assert "schema upgraded from empty to" in migrated.stdout
    again = run(tmp_path, "migrate", DATABASE_URL=empty_database_url)
    assert "schema already at" in again.stdout


def test_a_schema_from_a_newer_version_is_one_clear_line(tmp_path: Path) -> None:
    db = tmp_path / "newer.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{db}"}
    assert run(tmp_path, "migrate", **env).returncode == 0
    with sqlite3.connect(db) as conn:
        # What a rollback to this version finds after a newer version migrated the file.
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    out = run(tmp_path, "serve", PORT=str(free_port()), **env)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert "9999_from_the_future" in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("nudgebot: ")


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    out = run(tmp_path, "serve", DATABASE_URL=url)
    assert out.returncode == 1
    assert "cannot reach the database at postgresql+asyncpg://postgres@127.0.0.1" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("preview", "--workspace", "T1", "--person", "U1"),
        ("report", "--workspace", "T1"),
        ("import-org", "org.csv"),
    ],
)
def test_every_database_command_says_one_line_when_the_database_is_down(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    (tmp_path / "org.csv").write_text("platform,workspace,manager,member,team\nslack,T1,U1,U2,\n")
    url = f"postgresql://postgres:s3cret@127.0.0.1:{free_port()}/nowhere"
    out = run(tmp_path, *args, DATABASE_URL=url)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert out.stderr.startswith("nudgebot: cannot reach the database at postgresql+asyncpg://")
    assert len(out.stderr.strip().splitlines()) == 1
    assert "s3cret" not in out.stderr


def test_import_org_validates_then_applies_once(tmp_path: Path, empty_database_url: str) -> None:
    env = {"DATABASE_URL": empty_database_url}
    if BACKEND == "postgres":
        assert run(tmp_path, "migrate", **env).returncode == 0
    good = tmp_path / "org.csv"
    good.write_text("platform,workspace,manager,member,team\nslack,T1,U1,U2,Blue\n")
    dry = run(tmp_path, "import-org", str(good), "--dry-run", **env)
    assert dry.returncode == 0, dry.stderr
    assert "would change" in dry.stdout
    first = run(tmp_path, "import-org", str(good), "--verbose", **env)
    assert first.returncode == 0
    assert "add U2 -> U1 (team Blue)" in first.stdout
    assert "changed: 1 new workspace(s), 2 new people, 1 new reporting line(s)" in first.stdout
    second = run(tmp_path, "import-org", str(good), **env)
    assert "nothing to change" in second.stdout

    bad = tmp_path / "bad.csv"
    bad.write_text("platform,workspace,manager,member,team\nslack,T1,U1,U3,\nirc,T1,U1,U4,\n")
    out = run(tmp_path, "import-org", str(bad), **env)
    assert out.returncode == 1
    assert f"{bad}: line 3: platform 'irc' must be one of: slack, teams" in out.stderr
    assert "nothing was imported" in out.stderr
    # The valid row of the bad file was not written either.
    again = run(tmp_path, "import-org", str(good), "--replace", "--dry-run", **env)
    assert "nothing to change" in again.stdout


def test_import_org_missing_file(tmp_path: Path) -> None:
    out = run(tmp_path, "import-org", "nope.csv")
    assert out.returncode == 1
    assert "nope.csv: no such file" in out.stderr


def test_preview_lists_planned_nudges_without_sending(
    tmp_path: Path, empty_database_url: str
) -> None:
    env = {"DATABASE_URL": empty_database_url}
    assert run(tmp_path, "migrate", **env).returncode == 0
    org = tmp_path / "org.csv"
    org.write_text("platform,workspace,manager,member,team\nslack,T1,UM,UA,\nslack,T1,UM,UB,\n")
    assert run(tmp_path, "import-org", str(org), **env).returncode == 0
    out = run(tmp_path, "preview", "--workspace", "T1", "--person", "UM", "--weeks", "3", **env)
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if not line.startswith(" ")]
    assert len(lines) == 3
    assert all("UTC" in line for line in lines)
    as_json = run(
        tmp_path, "preview", "--workspace", "T1", "--person", "UM", "--weeks", "2", "--json", **env
    )

    items = json.loads(as_json.stdout)
    assert [item["status"] for item in items] == ["planned", "planned"]
    assert {"local_time", "utc_time", "kind", "nudge_key", "reason"} <= set(items[0])
    assert "@UA" in out.stdout or "@UB" in out.stdout
    assert "<@" not in out.stdout
    member = run(tmp_path, "preview", "--workspace", "T1", "--person", "UA", **env)
    assert member.returncode == 0, member.stderr
    assert member.stdout.startswith("UA gets no nudges: nobody reports to them")
    unknown = run(tmp_path, "preview", "--workspace", "T1", "--person", "NOPE", **env)
    assert unknown.returncode == 1
    assert "no person 'NOPE'" in unknown.stderr
    bad = run(tmp_path, "preview", "--workspace", "T1", "--person", "UM", "--weeks", "0", **env)
    assert bad.returncode == 2
    assert "--weeks must be" in bad.stderr


def test_import_org_prints_a_summary_not_a_line_per_row(tmp_path: Path) -> None:
    org = tmp_path / "org.csv"
    rows = "".join(f"slack,T1,UM{i // 10},UA{i},Team Blue\n" for i in range(200))
    org.write_text("platform,workspace,manager,member,team\n" + rows)
    out = run(tmp_path, "import-org", str(org))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "200 rows read; changed: 1 new workspace(s), 220 new people, 200 new reporting line(s)"
    ]
    # Not a terminal: no progress bar in the captured output either.
    assert "\r" not in out.stderr
    assert "rows" not in out.stderr


def test_a_new_workspace_from_import_gets_the_service_defaults(tmp_path: Path) -> None:
    org = tmp_path / "org.csv"
    org.write_text("platform,workspace,manager,member,team\nslack,T1,UM,UA,\n")
    env = {"DEFAULT_TIMEZONE": "Asia/Tokyo", "DEFAULT_COUNTRY": "JP", "DEFAULT_LOCALE": "nl"}
    assert run(tmp_path, "import-org", str(org), **env).returncode == 0
    with sqlite3.connect(tmp_path / "data" / "nudgebot.sqlite3") as conn:
        row = conn.execute(
            "SELECT default_timezone, country, default_locale FROM workspaces"
        ).fetchone()
    assert row == ("Asia/Tokyo", "JP", "nl")


@pytest.mark.parametrize(
    "args",
    [("preview", "--workspace", "T1", "--person", "U1"), ("report", "--workspace", "T1")],
)
def test_preview_and_report_migrate_a_fresh_sqlite_store_like_serve(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    out = run(tmp_path, *args)
    assert "schema is not at head" not in out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last == "nudgebot: no workspace 'T1' (import the org chart first)"
    with sqlite3.connect(tmp_path / "data" / "nudgebot.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)


def test_serve_refuses_half_a_slack_configuration_with_one_line(tmp_path: Path) -> None:
    out = run(tmp_path, "serve", SLACK_BOT_TOKEN="xoxb-1-2-3", PORT=str(free_port()))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "nudgebot: configuration: SLACK_SIGNING_SECRET: Slack over HTTP needs it with "
        "SLACK_BOT_TOKEN; or set SLACK_APP_TOKEN for Socket Mode (for example "
        "SLACK_SIGNING_SECRET=8f742231b10e8888abcd99yyyzzz85a5)"
    ]


def test_serve_names_host_when_the_host_cannot_be_used(tmp_path: Path) -> None:
    out = run(tmp_path, "serve", HOST="not.a.host.invalid", PORT=str(free_port()))
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("nudgebot: cannot listen on not.a.host.invalid:")
    assert "set HOST to an address of this machine, e.g. HOST=127.0.0.1" in last
    assert "PORT" not in last
    assert "Traceback" not in out.stderr


def test_serve_names_port_when_the_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = run(tmp_path, "serve", HOST="127.0.0.1", PORT=str(port))
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert "set PORT to a free port, e.g. PORT=3001" in last
