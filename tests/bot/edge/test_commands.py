from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import exc as sa_exc

from bot.edge import EdgeCore, EdgeOptions
from bot.edge.metrics import COMMAND_ACK_SECONDS
from nudges.coaching.interactions import Actor
from nudges.domain import Platform
from nudges.services import Services


@dataclass(frozen=True)
class _Reply:
    text: str
    ok: bool = True


class _Runner:
    """A command grammar that takes ``pause`` seconds, or fails with ``error``."""

    def __init__(self, pause: float = 0.0, error: Exception | None = None) -> None:
        self.pause = pause
        self.error = error
        self.seen: list[tuple[Actor, str, str, bool]] = []

    async def run(
        self, actor: Actor, text: str, *, prefix: str, is_platform_admin: bool = False
    ) -> _Reply:
        self.seen.append((actor, text, prefix, is_platform_admin))
        await asyncio.sleep(self.pause)
        if self.error is not None:
            raise self.error
        return _Reply(f"ran {text}")


def _core(services: Services, runner: _Runner, budget: float = 1.0) -> EdgeCore:
    options = EdgeOptions(command="/nudges", ack_budget=budget)
    return EdgeCore(services, Platform.SLACK, commands=runner, options=options)


def _acks() -> float:
    total = 0.0
    for metric in COMMAND_ACK_SECONDS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count") and sample.labels.get("platform") == "slack":
                total += sample.value
    return total


async def test_a_quick_command_is_answered_in_the_acknowledgement(services: Services) -> None:
    runner = _Runner()
    now: list[str | None] = []
    later: list[str] = []
    before = _acks()

    async def ack(reply: str | None) -> None:
        now.append(reply)

    async def follow_up(reply: str) -> None:
        later.append(reply)

    await _core(services, runner).commands.answer("T1", "U1", "help", now=ack, later=follow_up)
    assert (now, later) == (["ran help"], [])
    ((actor, text, prefix, admin),) = runner.seen
    assert (actor, text, prefix, admin) == (
        Actor(Platform.SLACK, "T1", "U1"),
        "help",
        "/nudges ",
        False,
    )
    assert _acks() == before + 1


async def test_a_slow_command_is_acknowledged_empty_and_answered_later(
    services: Services,
) -> None:
    now: list[str | None] = []
    later: list[str] = []

    async def ack(reply: str | None) -> None:
        now.append(reply)

    async def follow_up(reply: str) -> None:
        later.append(reply)

    core = _core(services, _Runner(pause=0.2), budget=0.01)
    await core.commands.answer("T1", "U1", "status", now=ack, later=follow_up)
    assert (now, later) == ([None], ["ran status"])


async def test_a_command_while_the_store_is_down_says_try_again(services: Services) -> None:
    outage = sa_exc.OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "refused"))
    reply = await _core(services, _Runner(error=outage)).run_command("T1", "U1", "status")
    assert "try again in a moment" in reply


async def test_a_command_that_breaks_says_so_in_one_line(services: Services) -> None:
    reply = await _core(services, _Runner(error=RuntimeError("bug"))).run_command("T1", "U1", "x")
    assert reply == "Something went wrong on my side; please try again in a minute."
