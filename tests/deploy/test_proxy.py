"""Two replicas behind haproxy, as deploy/compose.yaml runs them, without Docker.

No Docker engine runs here, so the compose file is checked for what the engine would be handed,
and the topology it describes is run for real: haproxy (Debian's package, installed by
scripts/ensure-haproxy) with deploy/haproxy/haproxy.cfg, in front of two `nudgebot serve`.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from tests.deploy.processes import (
    HAPROXY_CONFIG,
    haproxy_binary,
    start,
    start_haproxy,
    status_of,
    wait_ready,
)
from tests.serve import ROOT, Service

CONFIG = HAPROXY_CONFIG
COMPOSE = ROOT / "deploy" / "compose.yaml"
REPLICA = re.compile(r'nudgebot_scheduler_active\{replica="([^"]+)"\}')


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_the_compose_file_runs_two_replicas_behind_the_proxy_after_one_migration() -> None:
    services = _compose()["services"]
    bots = sorted(name for name in services if name.startswith("bot-"))
    assert bots == ["bot-1", "bot-2"]
    assert services["migrate"]["command"] == ["nudgebot", "migrate"]
    for name in bots:
        bot = services[name]
        assert bot["image"] == services["migrate"]["image"]
        assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert bot["environment"]["NUDGEBOT_REPLICA"] == name
        assert (
            bot["environment"]["DATABASE_URL"] == services["migrate"]["environment"]["DATABASE_URL"]
        )
        assert "ports" not in bot, "only the proxy is published"
    proxy = services["proxy"]
    assert proxy["build"] == "haproxy"
    assert sorted(proxy["depends_on"]) == bots
    # Every address the proxy's configuration reads is one compose hands it.
    wanted = set(re.findall(r"\$\{(\w+)\}", CONFIG.read_text()))
    assert wanted == set(proxy["environment"])
    assert {proxy["environment"][f"BOT_{n}"] for n in (1, 2)} == {f"{b}:3000" for b in bots}
    dockerfile = (ROOT / "deploy" / "haproxy" / "Dockerfile").read_text()
    assert "apt-get install" in dockerfile and " haproxy" in dockerfile


async def _answered_by(session: aiohttp.ClientSession, base: str) -> str:
    async with session.get(f"{base}/metrics") as r:
        assert r.status == 200
        (replica,) = set(REPLICA.findall(await r.text()))
        return replica


async def _replicas(empty_database_url: str, tmp_path: Path) -> AsyncIterator[list[Service]]:
    replicas = await asyncio.gather(
        *(
            start(
                ["serve", "--migrate"],
                empty_database_url,
                tmp_path,
                name=name,
                extra_env={"NUDGEBOT_REPLICA": name},
            )
            for name in ("bot-1", "bot-2")
        )
    )
    try:
        yield list(replicas)
    finally:
        await asyncio.gather(*(r.stop() for r in replicas))


async def test_haproxy_with_the_repos_config_spreads_requests_over_two_real_replicas(
    empty_database_url: str, tmp_path: Path
) -> None:
    gen = _replicas(empty_database_url, tmp_path)
    replicas = await anext(gen)
    proxy: asyncio.subprocess.Process | None = None
    log = tmp_path / "haproxy.log"
    try:
        for replica in replicas:
            await wait_ready(replica)
        proxy, base = await start_haproxy(replicas, log)
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 30
            seen: Counter[str] = Counter()
            # Both replicas in rotation once haproxy's first health checks passed.
            while time.monotonic() < deadline and len(seen) < 2:
                assert proxy.returncode is None, log.read_text()
                try:
                    seen[await _answered_by(session, base)] += 1
                except (aiohttp.ClientError, OSError):
                    await asyncio.sleep(0.2)
            assert set(seen) == {"bot-1", "bot-2"}, log.read_text()
            order = [await _answered_by(session, base) for _ in range(10)]
            # Round robin: each request goes to the other replica than the one before.
            assert all(a != b for a, b in itertools.pairwise(order)), order
            assert Counter(order) == {"bot-1": 5, "bot-2": 5}
            status, body = await status_of(f"{base}/readyz")
            assert (status, body["status"]) == (200, "ready")

            # One replica stops (a rolling upgrade, a node drain): the proxy keeps answering.
            await replicas[0].stop()
            answers = []
            for _ in range(10):
                status, body = await status_of(f"{base}/readyz")
                answers.append(status)
                await asyncio.sleep(0.1)
            assert answers == [200] * 10, log.read_text()
            assert {await _answered_by(session, base) for _ in range(4)} == {"bot-2"}
    finally:
        if proxy is not None and proxy.returncode is None:
            proxy.terminate()
            await proxy.wait()
        await gen.aclose()


@pytest.fixture(autouse=True)
def _needs_haproxy() -> None:
    haproxy_binary()
