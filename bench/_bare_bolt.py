"""Serve a bare Bolt app that only acknowledges every action, as the clicks benchmark's yardstick.

Usage: python bench/_bare_bolt.py SIGNING_SECRET  (prints its URL, serves until SIGTERM)
"""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from typing import Any

from aiohttp import web
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult


async def main(secret: str) -> None:
    """Build the app, listen on a free loopback port, print the URL, wait for a signal."""

    async def authorize(**_kwargs: Any) -> AuthorizeResult:
        # Known up front, so no request leaves the machine (Bolt would call auth.test).
        return AuthorizeResult(
            enterprise_id=None,
            team_id=_kwargs.get("team_id"),
            bot_token="xoxb-bare",
            bot_id="B0BARE",
            bot_user_id="U0BARE",
        )

    app = AsyncApp(signing_secret=secret, authorize=authorize)

    @app.action(re.compile(".*"))
    async def ack_only(ack: Any) -> None:
        await ack()

    runner = web.AppRunner(app.web_app(path="/slack/events"), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    print(f"http://{host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
