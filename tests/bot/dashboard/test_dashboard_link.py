"""`nudgebot dashboard-link` prints a sign-in link only for an admin, sealed with the key."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from cryptography.fernet import Fernet

from bot.dashboard.access import Passes
from tests.bot.test_cli import run


def test_the_link_names_the_admin_and_opens_only_with_the_same_key(tmp_path: Path) -> None:
    org = tmp_path / "org.csv"
    org.write_text("platform,workspace,manager,member,team\nslack,T1,UADMIN1,UMEM1,\n")
    assert run(tmp_path, "import-org", str(org)).returncode == 0
    key = Fernet.generate_key().decode()
    env = {"NUDGEBOT_SECRET_KEY": key, "NUDGEBOT_PUBLIC_URL": "https://bot.example.org/"}

    not_admin = run(tmp_path, "dashboard-link", "--workspace", "T1", "--person", "UADMIN1", **env)
    assert not_admin.returncode == 1
    assert "is not an admin of workspace 'T1'" in not_admin.stderr

    with sqlite3.connect(tmp_path / "data" / "nudgebot.sqlite3") as conn:
        conn.execute("UPDATE people SET is_admin = 1 WHERE external_id = 'UADMIN1'")
    out = run(tmp_path, "dashboard-link", "--workspace", "T1", "--person", "UADMIN1", **env)
    assert out.returncode == 0, out.stderr
    url = urlparse(out.stdout.strip())
    assert (url.scheme, url.netloc, url.path) == ("https", "bot.example.org", "/dashboard/signin")
    (token,) = parse_qs(url.query)["token"]
    viewer = Passes(key).read(token, "link")
    assert viewer is not None and viewer.person_external_id == "UADMIN1"
    assert Passes(Fernet.generate_key().decode()).read(token, "link") is None

    keyless = run(tmp_path, "dashboard-link", "--workspace", "T1", "--person", "UADMIN1")
    assert keyless.returncode == 1
    assert "NUDGEBOT_SECRET_KEY" in keyless.stderr
