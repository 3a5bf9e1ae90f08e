"""The composition root builds every platform from its table, one builder per platform."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from bot.app import PLATFORMS, StartupError, build_platforms
from bot.edge import EdgeConfigError, EdgeCore
from bot.settings import Settings
from bot.slack.edge import SlackEdge
from nudges.domain import Platform
from nudges.ports import FakeClock
from nudges.services import Services
from nudges.store.database import Database
from tests.bot.slack.app_harness import NOW, SIGNING_SECRET, build_services


class _Toy:
    """The smallest platform edge: no routes, nothing to connect."""

    name = "toy"

    def __init__(self, services: Services) -> None:
        self.core = EdgeCore(services, Platform.SLACK)
        self.started = self.stopped = False

    def status(self) -> str:
        return "toy mode"

    def add_routes(self, app: web.Application) -> None:
        async def hello(_request: web.Request) -> web.Response:
            return web.Response(text="toy")

        app.router.add_get("/toy", hello)

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def drain(self) -> None:
        await self.core.drain()


def no_platforms(**values: Any) -> Settings:
    """Return settings with every platform off, changed by ``values``."""
    base: dict[str, Any] = {
        "slack_app_token": None,
        "slack_bot_token": None,
        "slack_signing_secret": None,
        "slack_client_id": None,
        "slack_client_secret": None,
        "microsoft_app_id": None,
        "teams_enabled": False,
        "nudgebot_sandbox": False,
    }
    base.update(values)
    return Settings(_env_file=None, **base)


def test_every_platform_has_one_entry() -> None:
    assert "slack" in PLATFORMS


async def test_a_platform_is_one_more_builder(db: Database) -> None:
    services = build_services(db, FakeClock(NOW))
    built = build_platforms(
        no_platforms(),
        services,
        {"off": lambda _s, _v: None, "toy": lambda _s, v: _Toy(v)},
    )
    assert [edge.name for edge in built] == ["toy"]


async def test_half_a_configuration_stops_start_up_naming_the_platform(db: Database) -> None:
    services = build_services(db, FakeClock(NOW))

    def broken(_settings: Settings, _services: Services) -> None:
        raise EdgeConfigError("set TOY_TOKEN")

    with pytest.raises(StartupError, match=r"^toy: set TOY_TOKEN$"):
        build_platforms(no_platforms(), services, {"toy": broken})


async def test_slack_is_built_when_configured(db: Database) -> None:
    services = build_services(db, FakeClock(NOW))
    settings = no_platforms(slack_bot_token="xoxb-1-2-3", slack_signing_secret=SIGNING_SECRET)
    built = build_platforms(settings, services, {"slack": PLATFORMS["slack"]})
    (slack,) = built
    assert isinstance(slack, SlackEdge)
    assert (slack.name, slack.status()) == ("slack", "http mode")
    assert build_platforms(no_platforms(), services, {"slack": PLATFORMS["slack"]}) == []
