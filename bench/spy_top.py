"""Sum up a py-spy recording (raw folded stacks) by function: where did the process spend it?

Usage: .venv/bin/python bench/spy_top.py FILE [--top 25] [--rate 250] [--under PREFIX ...]

py-spy's idle detection misses two waits, so they are taken out here: the event loop waiting in
``select`` and an aiosqlite connection thread waiting for its next call (aiosqlite runs each
SQLite connection in a thread of its own; the SQL itself shows there, under the worker). What
is left is busy time: seconds (at --rate samples a second, as the benchmarks record) in the
main thread (the event loop) and in the others, then the share of busy samples each function
was on the stack for (inclusive) for the project's code (nudges/, bot/, or --under), each
leaf function's own share, and busy samples charged to the innermost project frame.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<name>.+) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
OWN = ("nudges/", "bot/")
Frame = tuple[str, str]


def frames(stack: str) -> list[tuple[str, str, int]]:
    """Split one folded stack into (function, file, line), outermost first."""
    out = []
    for part in stack.split(";"):
        found = FRAME.match(part.strip())
        if found:
            out.append((found["name"], found["file"], int(found["line"] or 0)))
        else:
            out.append((part.strip(), "", 0))
    return out


def _aiosqlite_wait_lines() -> set[int]:
    """Return the lines where aiosqlite's worker waits for its next call (its queue's get)."""
    spec = importlib.util.find_spec("aiosqlite.core")
    if spec is None or spec.origin is None:
        return set()
    lines = Path(spec.origin).read_text(encoding="utf-8").splitlines()
    return {n for n, text in enumerate(lines, start=1) if "tx.get()" in text}


def idle(leaf: tuple[str, str, int], aiosqlite_waits: set[int]) -> bool:
    """Tell whether a stack ending in ``leaf`` was waiting rather than working."""
    name, file, line = leaf
    if file == "selectors.py" and name.endswith(".select"):
        return True
    return (
        file == "aiosqlite/core.py"
        and name == "_connection_worker_thread"
        and (line in aiosqlite_waits)
    )


class Tally:
    """Busy samples of one recording: in total, per thread kind, per function."""

    def __init__(self, path: Path) -> None:
        waits = _aiosqlite_wait_lines()
        self.samples = self.busy = self.main = 0
        self.inclusive: Counter[Frame] = Counter()
        self.leaf: Counter[Frame] = Counter()
        self.charged: Counter[Frame] = Counter()
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            self.samples += n
            seen = frames(stack)
            if not seen or idle(seen[-1], waits):
                continue
            self.busy += n
            pairs = [(name, file) for name, file, _line in seen]
            if pairs[0][0] == "_run_module_as_main":
                self.main += n
            for frame in set(pairs):
                self.inclusive[frame] += n
            self.leaf[pairs[-1]] += n
            mine = [f for f in pairs if f[1].startswith(OWN)]
            self.charged[mine[-1] if mine else ("(outside the project)", "")] += n


def show(title: str, counts: Counter[Frame], total: int, top: int) -> None:
    """Print the ``top`` entries of ``counts`` as shares of ``total``."""
    print(f"\n{title}")
    for (name, file), n in counts.most_common(top):
        print(f"  {100 * n / total:5.1f} %  {file}:{name}")


def main() -> None:
    """Read the recording and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--rate", type=float, default=250.0, help="samples a second")
    parser.add_argument("--under", nargs="*", default=list(OWN))
    args = parser.parse_args()
    found = Tally(args.file)
    rate = args.rate
    print(
        f"{args.file}: {found.samples / rate:.1f} s of sampled stacks, {found.busy / rate:.1f} s "
        f"busy: main thread (event loop) {found.main / rate:.1f} s, other threads "
        f"{(found.busy - found.main) / rate:.1f} s"
    )
    if not found.busy:
        return
    under = tuple(args.under)
    mine = Counter({k: v for k, v in found.inclusive.items() if k[1].startswith(under)})
    show(f"inclusive, busy, under {', '.join(under)}", mine, found.busy, args.top)
    show("own time of the leaf function, busy", found.leaf, found.busy, args.top)
    show(f"busy, charged to the innermost frame under {', '.join(OWN)}", found.charged,
         found.busy, args.top)  # fmt: skip


if __name__ == "__main__":
    main()
