"""Hand out loopback ports for the services tests start, without two test processes clashing.

A port found by binding port 0 and closing it again comes from the kernel's ephemeral range,
where the next outgoing connection of any process may take it before the service binds it, and
the other pass of `make test` asks for ports from the same range at the same moment. So each
pass and pytest-xdist worker takes ports from a block of its own below the ephemeral range
(32768 and up on Linux), starting at a point of the block that differs from run to run.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import zlib
from collections.abc import Iterator

BASE = 11000
BLOCK = 900
WORKERS = 10
PASSES = ("sqlite", "postgres")


def _block() -> tuple[int, int]:
    """Return where this process's block starts and the run's offset inside it."""
    db = os.environ.get("NUDGEBOT_TEST_DB", "sqlite")
    run = PASSES.index(db) if db in PASSES else 0
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    number = int(worker) % WORKERS if worker.isdigit() else 0
    offset = zlib.crc32(os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid())).encode())
    return BASE + (run * WORKERS + number) * BLOCK, offset % BLOCK


_START, _OFFSET = _block()
_turns = itertools.count(_OFFSET)


def free_port() -> int:
    """Return a loopback port of this process's block that nothing holds now."""
    for _ in range(BLOCK):
        port = _START + next(_turns) % BLOCK
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port in {_START}-{_START + BLOCK - 1}")


@contextlib.contextmanager
def refusing_port() -> Iterator[int]:
    """Hold a loopback port bound but not listening: every connection to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])
