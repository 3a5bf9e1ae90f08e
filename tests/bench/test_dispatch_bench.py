"""Run bench/dispatch.py at a tiny size, so the benchmark itself cannot rot unnoticed.

Only that it runs and counts right is checked here; speed targets are the benchmark's own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.fault.harness import ROOT


def test_both_modes_send_every_managers_nudge_once(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "dispatch.py"),
            "--workspaces", "2",
            "--managers", "10",
            "--database", "sqlite",
            "--lead", "5",
            "--tick-seconds", "5",
            "--timeout", "120",
            "--json", str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    figures = {fig["mode"]: fig for fig in json.loads(out.read_text())}
    assert set(figures) == {"backlog", "realistic"}
    for mode, fig in figures.items():
        assert fig["due"] == 20, mode
        assert (fig["lost"], fig["duplicates"], fig["strays"]) == (0, 0, 0), (mode, fig)
        assert fig["statuses"] == {"sent": 20}, (mode, fig)
        assert all(t is not None for t in fig["first_post_by_workspace"].values()), fig
        assert fig["peak_rss_mb"] > 0
    # The backlog is stored before its slot; the realistic slot's nudges come from the planner.
    assert figures["backlog"]["rows_ahead"] == 20
    assert figures["realistic"]["rows"] == 20
    assert "| SQLite | realistic |" in run.stdout
