"""With Slack unreachable over Socket Mode the service logs one line per attempt, no traceback."""

from __future__ import annotations

import logging
import selectors
import signal
import subprocess
import time
from pathlib import Path

from bot.slack.quiet_logs import OneLineReconnects
from tests.bot.test_cli import CLI, _env
from tests.ports import free_port, refusing_port


def _lines_until(proc: subprocess.Popen[str], marker: str, deadline: float) -> list[str]:
    """Read ``proc``'s stderr lines until one holds ``marker``, it ends, or the deadline passes."""
    assert proc.stderr is not None
    seen: list[str] = []
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stderr, selectors.EVENT_READ)
        # A silent process must not hold the test: wait for each line no later than the deadline.
        while (left := deadline - time.monotonic()) > 0 and sel.select(left):
            line = proc.stderr.readline()
            if not line:
                break
            seen.append(line)
            if marker in line:
                break
    return seen


def test_an_unreachable_slack_gives_one_line_per_reconnect(tmp_path: Path) -> None:
    with refusing_port() as closed:
        env = _env(
            tmp_path,
            SLACK_APP_TOKEN="xapp-1-A0NUDGE-1-abc",
            SLACK_BOT_TOKEN="xoxb-1-2-abc",
            SLACK_API_URL=f"http://127.0.0.1:{closed}/api/",
            PORT=str(free_port()),
        )
        proc = subprocess.Popen(
            [*CLI, "serve"], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True, bufsize=1
        )
        try:
            # Until the second attempt: the machine may be slow, the count is what matters.
            seen = _lines_until(proc, "(attempt 2)", time.monotonic() + 60)
        finally:
            proc.send_signal(signal.SIGTERM)
            _, rest = proc.communicate(timeout=30)
    err = "".join(seen) + rest
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert not [line for line in lines if line.startswith(" ")], "multi-line records"
    assert "token` will be unused" not in err
    assert "A retry handler found" not in err
    attempts = [line for line in lines if "Socket Mode cannot connect" in line]
    assert len(attempts) >= 2
    assert attempts[0].endswith("retrying in 5 s (attempt 1)")
    assert attempts[1].endswith("retrying in 5 s (attempt 2)")
    assert len(lines) < 20


def test_a_new_session_resets_the_attempt_count() -> None:
    counting = OneLineReconnects(5)

    def record(message: str, exc: bool = False) -> logging.LogRecord:
        exc_info = None
        if exc:
            try:
                raise ConnectionRefusedError("refused")
            except ConnectionRefusedError as error:
                exc_info = (type(error), error, error.__traceback__)
        return logging.LogRecord("x", logging.ERROR, __file__, 1, message, None, exc_info)

    failed = record("Failed to connect (error: refused); Retrying...", exc=True)
    assert counting.filter(failed)
    assert failed.exc_info is None
    assert failed.levelname == "WARNING"
    assert failed.getMessage().endswith("(attempt 1)")
    assert counting.filter(record("A new session (s1) has been established"))
    again = record("Failed to connect (error: refused); Retrying...")
    counting.filter(again)
    assert again.getMessage().endswith("(attempt 1)")
    assert not counting.filter(record("Failed to retrieve WSS URL: refused"))
