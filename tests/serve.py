"""Run the real `nudgebot serve` as a process of its own, for end-to-end, fault and bench runs.

One set-up for every test that talks to the service from outside: a clean environment (none of
the developer's platform settings), a free port, a log file instead of a pipe (a pipe could fill
and stall the process), a wait until ``/healthz`` answers, and a stop that always ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import aiohttp

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
# Variables of the developer's own shell that would change what the service does.
FOREIGN = ("SLACK_", "MICROSOFT_", "NUDGEBOT_", "DATABASE_", "TEAMS_")


def clean_env(**extra: str) -> dict[str, str]:
    """Return this process's environment minus platform, store and port settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN) and k != "PORT"}
    env.update(extra)
    return env


def serve_env(port: int, settings: Mapping[str, str | None]) -> dict[str, str]:
    """Return a clean environment for a service on ``port``, plus ``settings``.

    A setting given as None is left out, so the service falls back to its own default.
    """
    env = clean_env(PYTHONPATH=str(ROOT), PORT=str(port))
    for name, value in settings.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


@dataclass
class Service:
    """One `nudgebot serve` process, its log in a file."""

    proc: asyncio.subprocess.Process
    port: int
    log_path: Path
    name: str
    started: float = field(default_factory=time.monotonic)
    # Every process started here, so a script can stop whatever it left running.
    started_so_far: ClassVar[list[Service]] = []

    @property
    def base(self) -> str:
        """Return the service's HTTP root."""
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        """Return what the process logged so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    @property
    def running(self) -> bool:
        """Tell whether the process is still alive."""
        return self.proc.returncode is None

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the process if it still runs."""
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)

    async def wait(self, limit: float) -> int | None:
        """Wait up to ``limit`` seconds for the process to end; return its code or None."""
        try:
            return await asyncio.wait_for(self.proc.wait(), limit)
        except TimeoutError:
            return None

    async def stop(self) -> None:
        """End the process: SIGTERM, then SIGKILL after 10 s."""
        if not self.running:
            return
        self.signal(signal.SIGTERM)
        if await self.wait(10) is None:
            self.signal(signal.SIGKILL)
            await self.wait(10)

    async def wait_healthy(self, limit: float = 60.0) -> None:
        """Wait until /healthz answers 200."""
        deadline = time.monotonic() + limit
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if not self.running:
                    raise AssertionError(f"{self.name} exited early:\n{self.log()[-3000:]}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with session.get(f"{self.base}/healthz") as r:
                        if r.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} never became healthy:\n{self.log()[-3000:]}")


async def spawn(
    command: Sequence[str],
    workdir: Path,
    env: Mapping[str, str],
    port: int,
    log_path: Path,
    name: str,
    python: str | None = None,
) -> Service:
    """Start ``python -m bot.cli COMMAND`` in ``workdir``, its output in ``log_path``."""
    os.makedirs(workdir, exist_ok=True)
    log = open(log_path, "wb")  # noqa: ASYNC230, SIM115 -- handed to the child, closed below
    try:
        proc = await asyncio.create_subprocess_exec(
            python or sys.executable,
            "-m",
            "bot.cli",
            *command,
            cwd=workdir,
            env=dict(env),
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    finally:
        log.close()
    service = Service(proc, port, log_path, name)
    Service.started_so_far.append(service)
    return service


async def start_serve(
    workdir: Path,
    settings: Mapping[str, str | None],
    *,
    name: str = "service",
    healthy: bool = True,
) -> Service:
    """Start `nudgebot serve` in ``workdir`` with ``settings``; wait until healthy unless told."""
    port = free_port()
    log_path = workdir / f"{name}-{int(time.time() * 1000)}.log"
    service = await spawn(("serve",), workdir, serve_env(port, settings), port, log_path, name)
    if healthy:
        try:
            await service.wait_healthy()
        except BaseException:
            # A process left running would keep claiming rows from the next test's backlog.
            service.signal(signal.SIGKILL)
            await service.wait(10)
            raise
    return service


@contextlib.asynccontextmanager
async def serving(
    workdir: Path, settings: Mapping[str, str | None], *, name: str = "service"
) -> AsyncIterator[Service]:
    """Run `nudgebot serve` for the body of a ``with``; stop it (SIGTERM) however the body ends."""
    service = await start_serve(workdir, settings, name=name)
    try:
        yield service
    finally:
        await service.stop()
