"""The Kubernetes manifests under deploy/kubernetes: valid, wired to each other and to the code.

Validated offline against the Kubernetes OpenAPI schemas that the kubernetes-validate package
ships, in strict mode (an unknown field is an error), for the oldest Kubernetes version still
commonly run and the newest the package knows.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from bot.settings import Settings
from nudges.services.ticker import Ticker

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "kubernetes"
VERSIONS = ["1.30.0", kubernetes_validate.latest_version()]


def _resources() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            out[doc["kind"]] = doc
    return out


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_validates_against_the_kubernetes_schemas(version: str) -> None:
    resources = _resources()
    assert set(resources) == {
        "ConfigMap",
        "Secret",
        "Job",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
    }
    for kind, doc in resources.items():
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            raise AssertionError(f"{kind}: {exc.message} at {list(exc.path)}") from None


def test_the_validation_catches_a_misspelt_field() -> None:
    broken = copy.deepcopy(_resources()["Deployment"])
    broken["spec"]["replica"] = broken["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[0], strict=True)


def test_kustomize_applies_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files


def _pod(resources: dict[str, dict[str, Any]], kind: str) -> dict[str, Any]:
    spec: dict[str, Any] = resources[kind]["spec"]["template"]["spec"]
    return spec


def test_two_replicas_probe_the_service_endpoints_and_roll_without_dropping_below_two() -> None:
    deployment = _resources()["Deployment"]
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    (container,) = _pod(_resources(), "Deployment")["containers"]
    assert container["command"] == ["nudgebot", "serve"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    port = container["ports"][0]
    assert port["containerPort"] == Settings.model_fields["port"].default
    assert container["readinessProbe"]["httpGet"]["port"] == port["name"]


def test_the_grace_period_outlasts_the_services_own_drain() -> None:
    from bot.slack.edge import SHUTDOWN_GRACE_SECONDS as SLACK_GRACE
    from bot.teams.edge import SHUTDOWN_GRACE_SECONDS as TEAMS_GRACE

    pod = _pod(_resources(), "Deployment")
    (container,) = pod["containers"]
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    ticker_grace = Ticker.stop.__defaults__[0]  # type: ignore[index]
    # SIGTERM comes after preStop; then the ticker hands back its claims and each platform's
    # acknowledged work finishes, one after the other.
    drain = float(pre_stop[1]) + ticker_grace + SLACK_GRACE + TEAMS_GRACE
    assert pod["terminationGracePeriodSeconds"] > drain


def test_the_budget_the_service_and_the_job_select_what_the_deployment_runs() -> None:
    resources = _resources()
    labels = resources["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert resources["Deployment"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert resources["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= (
        labels.items()
    )
    assert resources["PodDisruptionBudget"]["spec"]["minAvailable"] == 1
    assert resources["Service"]["spec"]["selector"].items() <= labels.items()
    job_labels = resources["Job"]["spec"]["template"]["metadata"]["labels"]
    assert not resources["Service"]["spec"]["selector"].items() <= job_labels.items()
    (migrate,) = _pod(resources, "Job")["containers"]
    (serve,) = _pod(resources, "Deployment")["containers"]
    assert migrate["command"] == ["nudgebot", "migrate"]
    assert migrate["image"] == serve["image"]
    assert migrate["envFrom"] == serve["envFrom"]
    assert _pod(resources, "Job")["restartPolicy"] == "Never"


def test_the_config_map_and_secret_name_only_real_settings() -> None:
    resources = _resources()
    names = {name.upper() for name in Settings.model_fields}
    given = set(resources["ConfigMap"]["data"]) | set(resources["Secret"]["stringData"])
    (serve,) = _pod(resources, "Deployment")["containers"]
    given |= {env["name"] for env in serve.get("env", [])}
    assert given - names == set()
    assert {"DATABASE_URL", "NUDGEBOT_SECRET_KEY"} <= set(resources["Secret"]["stringData"])
    refs = {next(iter(r.values()))["name"] for r in serve["envFrom"]}
    assert refs == {resources["ConfigMap"]["metadata"]["name"]} | {
        resources["Secret"]["metadata"]["name"]
    }
