"""Serve a fake platform (Slack's Web API, Teams' Bot Connector) on a free loopback port.

Every fake has the same life cycle: ``await fake.start()`` / ``await fake.stop()``, or
``async with fake:``; it binds port 0 unless told otherwise, so tests never collide.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from aiohttp import web


class FakeServer:
    """An aiohttp server a fake platform mounts its routes on, started and stopped with a test."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._root_url: str | None = None

    def add_routes(self, app: web.Application) -> None:
        """Mount the fake's routes; every fake overrides this."""
        raise NotImplementedError

    async def closing(self) -> None:
        """Close what the server cannot close by itself (open WebSockets); nothing by default."""

    @property
    def root_url(self) -> str:
        """Return ``http://host:port`` of the running fake, with no trailing slash."""
        if self._root_url is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._root_url

    async def start(self) -> None:
        """Listen on the configured address (a free loopback port by default)."""
        app = web.Application()
        self.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        host, port = self._runner.addresses[0][:2]
        self._root_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        """Stop listening; stopping a fake that is not running does nothing."""
        await self.closing()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
