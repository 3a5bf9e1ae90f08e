"""The sample Prometheus alerts (deploy/prometheus/alerts.yml) name only exported metrics."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

import bot.app  # noqa: F401 -- imports every module that defines a metric

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
DURATION = re.compile(r"^\d+[smhd]$")
METRIC = re.compile(r"\bnudgebot_[a-z0-9_]+")
# What each kind of metric family is exposed as.
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
}


def exported_names() -> set[str]:
    """Return every sample name the service's registry can expose."""
    names: set[str] = set()
    for family in REGISTRY.collect():
        for suffix in SUFFIXES.get(family.type, ("",)):
            names.add(family.name + suffix)
    return names


def unknown_metrics(expr: str) -> set[str]:
    """Return the nudgebot metrics ``expr`` names that the service does not export."""
    return set(METRIC.findall(expr)) - exported_names()


def _rules() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(ALERTS.read_text())
    (group,) = loaded["groups"]
    assert group["name"] == "nudgebot"
    rules: list[dict[str, Any]] = group["rules"]
    return rules


def test_the_alerts_cover_what_an_operator_of_several_replicas_must_hear_about() -> None:
    names = {rule["alert"] for rule in _rules()}
    assert {
        "NudgebotNoActiveScheduler",
        "NudgebotQueueDepthGrowing",
        "NudgebotDeliveriesFailing",
        "NudgebotClickAcksSlow",
    } <= names


def test_every_rule_is_complete() -> None:
    seen: set[str] = set()
    for rule in _rules():
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["alert"] not in seen
        seen.add(rule["alert"])
        assert DURATION.match(rule["for"]), rule["for"]
        assert rule["labels"]["severity"] in {"critical", "warning"}
        assert {"summary", "description"} <= set(rule["annotations"])
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["expr"]


def test_every_metric_the_alerts_name_is_exported() -> None:
    for rule in _rules():
        assert METRIC.search(rule["expr"]), rule["alert"]
        assert unknown_metrics(rule["expr"]) == set(), rule["alert"]
    # The check notices a name the service does not export.
    assert unknown_metrics("rate(nudgebot_clicks_total[5m]) + nudgebot_click_total") == {
        "nudgebot_click_total"
    }


@pytest.mark.parametrize(
    "command", [["check", "rules", ALERTS.name], ["test", "rules", "alerts_test.yml"]]
)
def test_promtool_accepts_the_rules_and_their_unit_tests_pass(command: list[str]) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian: prometheus); the checks above still ran")
    checked = subprocess.run(
        [promtool, *command], cwd=ALERTS.parent, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
