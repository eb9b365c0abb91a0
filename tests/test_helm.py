"""The Helm chart (deploy/helm/chiso) renders the objects the kustomize overlays render.

`helm lint --strict` passes with each values file, and `helm template` with values-dev.yaml and
values-prod.yaml gives the same objects as deploy/k8s/overlays/dev and prod: the same kinds
and names, specs and data, annotations, and at least kustomize's labels. The two differ only
where each tool has its own way: kustomize's ConfigMap names carry a content hash, the chart's
pods carry a checksum of theirs; kustomize creates the namespace, Helm takes the release's.
So tests/test_manifests.py's checks of the overlays (schemas, checkov, NetworkPolicies) hold
for the chart too; the chart's output is also validated against the oldest and newest schemas.

helm comes from scripts/install-k8s-tools (.tools/bin/helm); .ci/run runs it. Without it these
tests skip, unless CHISO_REQUIRE_MANIFEST_TOOLS=1.
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.test_manifests import KUBERNETES_VERSIONS, OVERLAYS, ROOT, missing, rendered, tool

CHART = ROOT / "deploy" / "helm" / "chiso"
NAMESPACES = {"dev": "chiso-dev", "prod": "chiso"}
HASHED_CONFIG = re.compile(r"^(.+-config)-[a-z0-9]{10}$")


def helm() -> str:
    found = tool("helm")
    if found is None:
        missing("helm (scripts/install-k8s-tools)")
    assert found is not None
    return found


def run_helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([helm(), *args], capture_output=True, text=True, timeout=120, check=False)


def chart(overlay: str) -> list[dict[str, Any]]:
    result = run_helm(
        "template",
        "chiso",
        str(CHART),
        "--namespace",
        NAMESPACES[overlay],
        "--values",
        str(CHART / f"values-{overlay}.yaml"),
    )
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def unhash(name: str) -> str:
    match = HASHED_CONFIG.match(name)
    return match.group(1) if match else name


def comparable(docs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, name) -> the object without what only one of the tools adds."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in docs:
        if doc["kind"] == "Namespace":
            continue
        meta = doc["metadata"]
        body = {k: v for k, v in doc.items() if k not in ("metadata", "apiVersion")}
        if doc["kind"] == "Deployment":
            template = body["spec"]["template"]
            template["metadata"].pop("annotations", None)  # the chart's config checksum
            spec = template["spec"]
            for container in [*spec["initContainers"], *spec["containers"]]:
                for source in container.get("envFrom", []):
                    ref = source["configMapRef"]
                    ref["name"] = unhash(ref["name"])
        out[(doc["kind"], unhash(meta["name"]))] = {
            "apiVersion": doc["apiVersion"],
            "namespace": meta.get("namespace"),
            "annotations": meta.get("annotations") or {},
            "labels": meta.get("labels") or {},
            **body,
        }
    return out


@pytest.mark.parametrize("values", ["values.yaml", *(f"values-{o}.yaml" for o in OVERLAYS)])
def test_chart_lints(values: str) -> None:
    result = run_helm("lint", "--strict", str(CHART), "--values", str(CHART / values))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_chart_renders_what_kustomize_renders(overlay: str) -> None:
    ours = comparable(chart(overlay))
    theirs = comparable(rendered(overlay))
    assert sorted(ours) == sorted(theirs)
    for key, expected in theirs.items():
        got = ours[key]
        kustomize_labels = expected.pop("labels")
        chart_labels = got.pop("labels")
        assert kustomize_labels.items() <= chart_labels.items(), f"{key}: labels"
        assert got == expected, f"{key} differs from the kustomize overlay {overlay}"


def test_the_comparison_sees_a_difference() -> None:
    """A changed value shows up: the chart is compared, not merely rendered."""
    result = run_helm(
        "template",
        "chiso",
        str(CHART),
        "--namespace",
        "chiso",
        "--values",
        str(CHART / "values-prod.yaml"),
        "--set",
        "networkPolicy.monitoringNamespace=obs",
    )
    assert result.returncode == 0, result.stderr
    changed = comparable([d for d in yaml.safe_load_all(result.stdout) if d])
    expected = comparable(rendered("prod"))
    assert changed[("NetworkPolicy", "gateway")] != expected[("NetworkPolicy", "gateway")]


@pytest.mark.parametrize("version", [KUBERNETES_VERSIONS[0], KUBERNETES_VERSIONS[-1]])
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_chart_objects_match_the_kubernetes_schema(overlay: str, version: str) -> None:
    errors = []
    for doc in chart(overlay):
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    assert not errors, "\n".join(errors)
