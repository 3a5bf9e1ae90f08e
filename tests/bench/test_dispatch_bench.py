"""Run bench/dispatch.py at a tiny size, so the benchmark itself cannot rot unnoticed.

Only that it runs and counts right is checked here; speed targets are the benchmark's own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.serve import ROOT


def _weekday_somewhere(at: datetime) -> bool:
    """Tell whether a `weekdays` cadence can fire at ``at`` in some zone (the bench's check)."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from _slot import weekday_zone

        weekday_zone(at)
    except SystemExit:
        return False
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return True


def test_both_modes_send_every_managers_nudge_once(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    # From Saturday 12:00 to Sunday 10:00 UTC no zone has a weekday: the realistic mode says so.
    realistic = _weekday_somewhere(datetime.now(UTC) + timedelta(minutes=5))
    modes = {"backlog", "realistic"} if realistic else {"backlog"}
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
            "--mode", ",".join(sorted(modes)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    figures = {fig["mode"]: fig for fig in json.loads(out.read_text())}
    assert set(figures) == modes
    for mode, fig in figures.items():
        assert fig["due"] == 20, mode
        assert (fig["lost"], fig["duplicates"], fig["strays"]) == (0, 0, 0), (mode, fig)
        assert fig["statuses"] == {"sent": 20}, (mode, fig)
        assert all(t is not None for t in fig["first_post_by_workspace"].values()), fig
        assert fig["peak_rss_mb"] > 0
    # The backlog is stored before its slot; the realistic slot's nudges come from the planner.
    assert figures["backlog"]["rows_ahead"] == 20
    if realistic:
        assert figures["realistic"]["rows"] == 20
        assert "| SQLite | realistic |" in run.stdout
