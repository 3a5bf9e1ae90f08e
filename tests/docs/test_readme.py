"""What the README and docs/architecture.md claim that the code can confirm, checked against it.

Each test reads the claim from the document and the fact from the code, so a new command, route,
setting or module shows up here as a missing README row, not as a stale page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp import web
from cryptography.fernet import Fernet

from bot.app import build_dashboard, build_platforms
from bot.server import create_web_app
from bot.settings import EXAMPLES, Settings
from nudges.commands.topics import TOPICS
from nudges.ports import FakeClock
from nudges.store.database import Database
from tests.bot.slack.app_harness import NOW, build_services
from tests.bot.test_app_platforms import no_platforms

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text()


def _section(text: str, title: str) -> str:
    """Return the body of the ``## title`` section, up to the next heading of that level."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert match, f"no section {title!r}"
    return match.group(1)


def _first_cells(section: str) -> list[str]:
    """Return the first cell of every body row of the section's tables."""
    cells = []
    for line in section.splitlines():
        if not line.startswith("|") or line.startswith("|---"):
            continue
        # A cell may hold an escaped pipe (`a\|b`); split on the others only.
        first = re.split(r"(?<!\\)\|", line)[1].strip()
        cells.append(first)
    return cells[1:] if cells else cells  # the header row


def _code_spans(cell: str) -> list[str]:
    return [span.replace("\\|", "|") for span in re.findall(r"`([^`]+)`", cell)]


def _command_words(span: str) -> set[str]:
    """Name the commands a span shows: ``me pause|resume`` is ``me pause`` and ``me resume``."""
    words = span.split()
    head = words[0]
    if head in {"me", "pulse"} and len(words) > 1:
        return {f"{head} {sub}" for sub in words[1].split("|")}
    return set(head.split("|"))


def test_the_command_table_lists_every_command_the_grammar_knows_and_no_other() -> None:
    table = _first_cells(_section(README, "Admin commands"))
    documented: set[str] = set()
    for cell in table:
        for span in _code_spans(cell):
            documented |= _command_words(span)
    known = {topic.words for topic in TOPICS if not topic.parent}
    missing, unknown = sorted(known - documented), sorted(documented - known)
    assert not missing, f"commands missing from the README table: {', '.join(missing)}"
    assert not unknown, f"README table names commands the grammar lacks: {', '.join(unknown)}"


def _tree_paths(block: str) -> list[str]:
    """Read an indented tree (two spaces a level) into paths: ``nudges/`` then ``  store/``."""
    paths: list[str] = []
    parents: list[tuple[int, str]] = []
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        name = line.split()[0]
        while parents and parents[-1][0] >= indent:
            parents.pop()
        if not (name.endswith("/") or "." in name):
            continue  # a continuation line of the description before it
        path = "".join(parent for _, parent in parents) + name
        paths.append(path)
        if name.endswith("/"):
            parents.append((indent, name))
    return paths


def _trees(text: str) -> list[str]:
    return re.findall(r"^```text\n(.*?)^```", text, flags=re.M | re.S)


@pytest.mark.parametrize("document", ["README.md", "docs/architecture.md"])
def test_the_architecture_tree_names_only_paths_that_exist(document: str) -> None:
    text = README if document == "README.md" else ARCHITECTURE
    body = _section(text, "Architecture") if document == "README.md" else text
    paths = [path for block in _trees(body) for path in _tree_paths(block)]
    assert len(paths) > 20, "the tree was not found"
    missing = [path for path in paths if not (ROOT / path).exists()]
    assert missing == []


def test_the_architecture_tree_names_every_room_of_the_core_and_the_edge() -> None:
    paths = set(_tree_paths(_trees(_section(README, "Architecture"))[0]))
    for top in ("nudges", "bot"):
        rooms = {
            f"{top}/{child.name}/"
            for child in (ROOT / top).iterdir()
            if child.is_dir() and (child / "__init__.py").exists()
        }
        assert rooms <= paths, f"rooms missing from the README tree: {sorted(rooms - paths)}"


def _routes(app: web.Application) -> set[str]:
    routes = set()
    for route in app.router.routes():
        if route.method == "HEAD":
            continue  # aiohttp adds one to every GET
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        routes.add(f"{route.method} {path}")
    return routes


async def test_the_endpoints_table_lists_every_route_the_service_can_serve(db: Database) -> None:
    # Every platform at once: Slack with OAuth, Teams (no app id: the emulator set-up), the
    # sandbox; together they mount every route the service has.
    settings = no_platforms(
        slack_signing_secret="s" * 32,
        slack_client_id="1.2",
        slack_client_secret="c" * 32,
        nudgebot_secret_key=Fernet.generate_key().decode(),
        teams_enabled=True,
        nudgebot_sandbox=True,
    )
    services = build_services(db, FakeClock(NOW))
    app = create_web_app(db)
    build_dashboard(settings, services).add_routes(app)
    for edge in build_platforms(settings, services):
        edge.add_routes(app)
    cells = _first_cells(_section(README, "HTTP endpoints"))
    documented = {span for cell in cells for span in _code_spans(cell)}
    assert documented == _routes(app)


def _configuration_variables() -> list[str]:
    names = []
    for cell in _first_cells(_section(README, "Configuration")):
        names += _code_spans(cell)
    return names


def test_every_setting_is_in_the_readme_the_env_example_and_the_examples() -> None:
    settings = {name.upper() for name in Settings.model_fields}
    env_example = (ROOT / ".env.example").read_text()
    in_example = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", env_example, flags=re.M))
    readme = _configuration_variables()
    assert len(readme) == len(set(readme)), "a variable has two README rows"
    for where, names in (("README", set(readme)), (".env.example", in_example)):
        assert names == settings, (
            f"{where}: missing {sorted(settings - names)}, not a setting {sorted(names - settings)}"
        )
    assert set(EXAMPLES) == settings, f"bot.settings.EXAMPLES: {sorted(set(EXAMPLES) ^ settings)}"


def test_the_readme_defaults_are_the_settings_defaults() -> None:
    rows = _section(README, "Configuration").splitlines()
    checked = 0
    for line in rows:
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) != 3 or not re.fullmatch(r"`[^`]+`", cells[1]):
            continue
        default = cells[1].strip("`")
        for name in _code_spans(cells[0]):
            field = Settings.model_fields[name.lower()]
            actual = field.default
            if isinstance(actual, int | float) and not isinstance(actual, bool):
                assert float(default) == float(actual), name
            else:
                assert default == str(actual), name
            checked += 1
    assert checked >= 10
