"""Run `nudgebot COMMAND` inside the test process, as a shell at a folder with an environment would.

A new Python process per command costs about a second of imports; the commands that end by
themselves (everything but `serve` and `scheduler`) are run here instead, through the same
``main`` the console script calls, with the environment, working folder, standard streams and
logging set up and put back exactly as a separate process would have them.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import threading
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path

from bot.cli import main
from tests.serve import clean_env

__all__ = ["clean_env", "run_cli"]

_lock = threading.Lock()


@contextlib.contextmanager
def _as_a_process(cwd: Path, env: Mapping[str, str]) -> Iterator[None]:
    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)


def run_cli(cwd: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """Run ``nudgebot ARGS`` at ``cwd`` with a clean environment plus ``extra``; capture it all."""
    out, err = io.StringIO(), io.StringIO()
    code: list[int] = []

    def command() -> None:
        # A thread of its own: the command runs its own event loop, as in a shell.
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code.append(main(list(args)))
            except SystemExit as exc:
                code.append(exc.code if isinstance(exc.code, int) else 1)
            except BaseException:
                # What the interpreter does with an uncaught exception: traceback, exit 1.
                traceback.print_exc()
                code.append(1)

    with _lock, _as_a_process(cwd, clean_env(**extra)):
        thread = threading.Thread(target=command, name="nudgebot-cli")
        thread.start()
        thread.join()
    return subprocess.CompletedProcess(["nudgebot", *args], code[0], out.getvalue(), err.getvalue())
