"""The Docker path as the README writes it: image settings, the compose file, the built wheel.

No Docker engine runs here, so each test checks what the engine would be handed: the image's
ENV merged with ``--env-file .env`` (a copy of .env.example), the compose file's services, and
the files pip puts in the wheel the image installs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from bot.settings import check_platforms, load_settings, platform_status

ROOT = Path(__file__).resolve().parents[2]


def _dockerfile_env() -> dict[str, str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(dict(re.findall(r"(\w+)=(\S+)", line)))
    return env


def _env_file(path: Path) -> dict[str, str]:
    """Read a file the way `docker run --env-file` does: KEY=VALUE lines, # starts a comment."""
    env: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        env[key] = value
    return env


def test_the_readme_docker_run_listens_on_all_interfaces_and_writes_to_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in list(os.environ):
        monkeypatch.delenv(name, raising=False)
    container_env = {**_dockerfile_env(), **_env_file(ROOT / ".env.example")}
    for key, value in container_env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert settings.host == "0.0.0.0"
    assert settings.port == 3000
    assert settings.database_url == "sqlite+aiosqlite:////data/nudgebot.sqlite3"
    check_platforms(settings)  # the example asks for no platform
    assert not any(status.enabled for status in platform_status(settings))


def test_the_env_example_names_every_setting(tmp_path: Path) -> None:
    text = (ROOT / ".env.example").read_text()
    named = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.M))
    from bot.settings import Settings

    assert {name.upper() for name in Settings.model_fields} <= named


def _compose() -> dict[str, dict[str, dict[str, object]]]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_the_compose_file_builds_the_image_once_and_wires_the_services() -> None:
    services = _compose()["services"]
    assert set(services) == {"db", "migrate", "bot"}
    built = [name for name, svc in services.items() if "build" in svc]
    assert built == ["bot"]
    assert services["migrate"]["image"] == services["bot"]["image"]
    assert services["migrate"].get("pull_policy") == "never"
    for name, svc in services.items():
        for needed in svc.get("depends_on", {}) or {}:  # type: ignore[union-attr]
            assert needed in services, f"{name} depends on unknown service {needed}"
    db_env = services["db"]["environment"]
    assert isinstance(db_env, dict)
    url = (
        f"postgresql+asyncpg://{db_env['POSTGRES_USER']}:{db_env['POSTGRES_PASSWORD']}"
        f"@db:5432/{db_env['POSTGRES_DB']}"
    )
    for name in ("migrate", "bot"):
        env = services[name]["environment"]
        assert isinstance(env, dict)
        assert env["DATABASE_URL"] == url
    bot_env = services["bot"]["environment"]
    assert isinstance(bot_env, dict)
    assert bot_env["HOST"] == "0.0.0.0"
    assert services["bot"]["ports"] == ["3000:3000"]
    assert services["migrate"]["command"] == ["nudgebot", "migrate"]


def test_the_dockerfile_copies_every_package_the_wheel_needs() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for folder in ("bot", "nudges", "migrations"):
        assert re.search(rf"^COPY {folder} \./{folder}$", text, flags=re.M), folder
    assert 'CMD ["nudgebot", "serve"]' in text


def _tracked_data_files() -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files", "bot", "nudges", "migrations"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {name for name in listed if not name.endswith(".py")}


def test_the_wheel_carries_every_data_file_of_the_packages(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("nudgebot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "bot/slack/manifest.yml" in names
    missing = sorted(_tracked_data_files() - names)
    assert missing == []
