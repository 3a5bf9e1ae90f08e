"""Start real `nudgebot` processes (any command, any interpreter) with their logs in files."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import aiohttp

from tests.bot.cli_runner import clean_env
from tests.serve import ROOT, Service, free_port, spawn

HAPROXY_CONFIG = ROOT / "deploy" / "haproxy" / "haproxy.cfg"


def process_env(
    database_url: str, port: int, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Build a process's environment: this database, this port, no platform of the shell's."""
    env = clean_env(
        DATABASE_URL=database_url,
        PORT=str(port),
        HOST="127.0.0.1",
        TICK_SECONDS="5",
        LOG_LEVEL="INFO",
        # No platform and no sandbox: the service's own endpoints and the scheduler only.
        NUDGEBOT_SANDBOX="0",
    )
    env.pop("PYTHONPATH", None)
    env.update(extra or {})
    return env


async def start(
    command: Sequence[str],
    database_url: str,
    workdir: Path,
    *,
    name: str,
    extra_env: Mapping[str, str] | None = None,
    python: str | None = None,
) -> Service:
    """Start ``nudgebot COMMAND`` (as ``python -m bot.cli``) without waiting for it."""
    port = free_port()
    env = process_env(database_url, port, extra_env)
    if python is None:
        # This checkout, whatever is installed: the tests run against the working tree.
        env["PYTHONPATH"] = str(ROOT)
    return await spawn(command, workdir, env, port, workdir / f"{name}.log", name, python)


async def status_of(url: str) -> tuple[int, dict[str, object]]:
    """GET ``url`` and return its status and JSON body (empty when it is not JSON)."""
    async with aiohttp.ClientSession() as session, session.get(url) as r:
        try:
            body = await r.json(content_type=None)
        except ValueError:
            body = {}
        return r.status, body if isinstance(body, dict) else {}


async def ready_now(service: Service) -> bool:
    """Tell whether the process's /readyz answers 200 right now (not listening: not ready)."""
    try:
        return (await status_of(f"{service.base}/readyz"))[0] == 200
    except (aiohttp.ClientError, OSError):
        return False


async def wait_ready(service: Service, limit: float = 60.0) -> dict[str, object]:
    """Wait until the process's /readyz answers 200; return its body."""
    deadline = time.monotonic() + limit
    last: object = None
    while time.monotonic() < deadline:
        if not service.running:
            raise AssertionError(f"{service.name} exited early:\n{service.log()[-3000:]}")
        with contextlib.suppress(aiohttp.ClientError, OSError):
            status, body = await status_of(f"{service.base}/readyz")
            last = body
            if status == 200:
                return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"{service.name} never became ready ({last}):\n{service.log()[-3000:]}")


def haproxy_binary() -> str:
    """Return the path of Debian's haproxy (installed by scripts/ensure-haproxy)."""
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
    assert found, "haproxy is missing: run scripts/ensure-haproxy (make test does)"
    return found


async def start_haproxy(
    replicas: Sequence[Service], log_path: Path
) -> tuple[asyncio.subprocess.Process, str]:
    """Start haproxy with the repository's configuration in front of ``replicas``; return its URL.

    The configuration names two replicas (BOT_1, BOT_2), as deploy/compose.yaml runs them.
    """
    assert len(replicas) == 2, "deploy/haproxy/haproxy.cfg serves two replicas"
    port = free_port()
    env = {
        **os.environ,
        "PROXY_BIND": f"127.0.0.1:{port}",
        **{f"BOT_{n}": f"127.0.0.1:{r.port}" for n, r in enumerate(replicas, start=1)},
    }
    with open(log_path, "wb") as out:  # noqa: ASYNC230 -- handed to the child
        proc = await asyncio.create_subprocess_exec(
            haproxy_binary(),
            "-db",
            "-f",
            str(HAPROXY_CONFIG),
            env=env,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    return proc, f"http://127.0.0.1:{port}"
