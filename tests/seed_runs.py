"""Fingerprint the seed articles as hashed word runs, so the copy guard needs no copy of them.

The articles live outside the repository (``../shared/seeds``). What the tests need of them is
only "does this 12-word run occur in a seed", which a set of run hashes answers; the file
``tests/fixtures/seed_fingerprints.json`` holds that set. Regenerate it with
``python -m tests.seed_runs`` whenever the seeds change.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

RUN_WORDS = 12
SEEDS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
FINGERPRINTS = Path(__file__).resolve().parent / "fixtures" / "seed_fingerprints.json"


def words(text: str) -> list[str]:
    """Split text into lower-case words, the unit the guard compares."""
    return re.findall(r"\w+", text.lower())


def run_hash(run: Iterable[str]) -> str:
    """Hash one run of words; 16 hex digits keep accidental collisions out of reach."""
    return hashlib.sha256(" ".join(run).encode()).hexdigest()[:16]


def runs_of(text: str) -> set[str]:
    """Hash every run of ``RUN_WORDS`` consecutive words of ``text``."""
    w = words(text)
    return {run_hash(w[i : i + RUN_WORDS]) for i in range(len(w) - RUN_WORDS + 1)}


def fingerprint(seeds_dir: Path) -> dict[str, object]:
    """Describe the seed folder: file names with their digests, and all run hashes."""
    files = sorted(seeds_dir.glob("*.txt"))
    runs: set[str] = set()
    for path in files:
        runs |= runs_of(path.read_text(encoding="utf-8"))
    return {
        "run_words": RUN_WORDS,
        "files": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files},
        "runs": sorted(runs),
    }


def load() -> dict[str, object]:
    """Read the stored fingerprint."""
    loaded: dict[str, object] = json.loads(FINGERPRINTS.read_text())
    return loaded


if __name__ == "__main__":
    if not SEEDS_DIR.is_dir():
        sys.exit(f"no seed articles at {SEEDS_DIR}")
    FINGERPRINTS.write_text(json.dumps(fingerprint(SEEDS_DIR), indent=0) + "\n")
    print(f"wrote {FINGERPRINTS}")
