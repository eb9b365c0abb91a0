"""The deployment files as a cluster and compose would take them.

Every Kubernetes overlay is rendered with `kubectl kustomize`; each object it yields is validated
strictly (unknown fields are errors) against the API schemas of every Kubernetes minor version
from 1.27 to 1.37 (kubernetes-validate); checkov scans the output and must find nothing that
`.checkov.yaml` or a justified `checkov.io/skipN` annotation does not account for; and the
NetworkPolicies are evaluated as the rules they are: who may reach which pod on which port.
docker-compose.yml is validated against the compose specification's JSON schema.

kubectl is the pinned one scripts/install-k8s-tools puts in .tools/bin, else the one on PATH;
checkov and check-jsonschema run from pinned tool environments (`uv tool run`), outside the
project's lock. Without kubectl or uv these tests skip, unless CHISO_REQUIRE_MANIFEST_TOOLS=1
(.ci/run sets it), which makes a missing tool a failure: in CI they must run.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
SERVICES = ("gateway", "ingest", "indicators")
PORTS = {"gateway": 8000, "ingest": 8001, "indicators": 8002}
METRICS_PORT = 9102
# The schema versions the README promises; kubernetes-validate ships 1.25 to 1.37.
KUBERNETES_VERSIONS = tuple(f"1.{minor}.0" for minor in range(27, 38))
CHECKOV = "checkov==3.3.30"
CHECK_JSONSCHEMA = "check-jsonschema==0.39.0"
# Their own dependencies as they stood on this date, so a new release of one cannot change the
# checks unannounced. Move it with the pins above.
TOOLS_AS_OF = "2026-11-15T00:00:00Z"
REQUIRE_ENV = "CHISO_REQUIRE_MANIFEST_TOOLS"
# Namespaces the NetworkPolicies assume (deploy/k8s/README.md, "Network policies").
INGRESS_NAMESPACE = "ingress-nginx"
MONITORING_NAMESPACE = "monitoring"


def missing(tool: str) -> None:
    message = f"{tool} is not installed"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{message}, and {REQUIRE_ENV}=1 requires the manifest checks to run")
    pytest.skip(message)


def tool(name: str) -> str | None:
    """The pinned copy in .tools/bin (scripts/install-k8s-tools, bootstrap), else PATH's."""
    local = ROOT / ".tools" / "bin" / name
    return str(local) if local.is_file() else shutil.which(name)


def kustomize_command() -> list[str]:
    kubectl = tool("kubectl")
    if kubectl is not None:
        return [kubectl, "kustomize"]
    kustomize = tool("kustomize")
    if kustomize is not None:
        return [kustomize, "build"]
    missing("kubectl")
    raise AssertionError("unreachable")


def uv() -> str:
    found = tool("uv")
    if found is None:
        missing("uv")
    assert found is not None
    return found


@functools.cache
def rendered_text(overlay: str) -> str:
    result = subprocess.run(
        [*kustomize_command(), str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def rendered(overlay: str) -> list[dict[str, Any]]:
    """A fresh copy each time, so a test may change what it gets."""
    docs = [d for d in yaml.safe_load_all(rendered_text(overlay)) if d]
    assert docs, f"{overlay} renders nothing"
    return docs


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_spec(docs: list[dict[str, Any]], service: str) -> dict[str, Any]:
    spec: dict[str, Any] = of_kind(docs, "Deployment")[service]["spec"]["template"]["spec"]
    return spec


# ---- schemas --------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_matches_the_kubernetes_schema(overlay: str, version: str) -> None:
    errors = []
    for doc in rendered(overlay):
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    assert not errors, "\n".join(errors)


def test_the_schema_check_rejects_an_unknown_field() -> None:
    """The check above is real: a misspelt field fails it."""
    deployment = copy.deepcopy(of_kind(rendered("prod"), "Deployment")["gateway"])
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


# ---- checkov --------------------------------------------------------------------------------

# A Deployment with none of the hardening the real ones have: checkov must flag it, which shows
# that the scan below runs its checks and reads this file.
CANARY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: canary
  namespace: canary
spec:
  selector:
    matchLabels: {app: canary}
  template:
    metadata:
      labels: {app: canary}
    spec:
      containers:
        - name: canary
          image: canary:latest
"""


def test_checkov_finds_nothing_unjustified(tmp_path: Path) -> None:
    files = {overlay: tmp_path / f"{overlay}.yaml" for overlay in OVERLAYS}
    for overlay, path in files.items():
        path.write_text(rendered_text(overlay), encoding="utf-8")
    canary = tmp_path / "canary.yaml"
    canary.write_text(CANARY, encoding="utf-8")
    command = [uv(), "tool", "run", "--exclude-newer", TOOLS_AS_OF, "--from", CHECKOV, "checkov"]
    command += ["--config-file", str(ROOT / ".checkov.yaml"), "--skip-download"]
    command += ["--output", "json"]
    for path in [*files.values(), canary]:
        command += ["--file", str(path)]
    # BC_SKIP_MAPPING: no call home for the guideline links; the scan works offline.
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=900, check=False, env=env, cwd=tmp_path
    )
    assert result.returncode in (0, 1), result.stderr[-4000:]
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [c for r in reports for c in r["results"]["failed_checks"]]
    skipped = [c for r in reports for c in r["results"]["skipped_checks"]]
    passed = [c for r in reports for c in r["results"]["passed_checks"]]

    def in_file(checks: list[dict[str, Any]], path: Path) -> list[str]:
        return [
            f"{c['check_id']} {c['resource']}" for c in checks if c["file_path"].endswith(path.name)
        ]

    assert in_file(failed, canary), "checkov flagged nothing in the canary: is it checking?"
    for overlay, path in files.items():
        assert in_file(passed, path), f"checkov checked nothing in {overlay}"
        assert not in_file(failed, path), f"checkov findings in {overlay}: {in_file(failed, path)}"
    # checkov does not report an annotation's reason: read it from the annotation itself.
    annotations = {
        f"{d['kind']}.{d['metadata'].get('namespace', 'default')}.{d['metadata']['name']}": (
            d["metadata"].get("annotations") or {}
        )
        for overlay in OVERLAYS
        for d in rendered(overlay)
    }
    for check in skipped:
        reasons = [
            value.partition("=")[2]
            for key, value in annotations.get(check["resource"], {}).items()
            if key.startswith("checkov.io/skip") and value.partition("=")[0] == check["check_id"]
        ]
        assert reasons and len(reasons[0]) >= 40, (
            f"{check['check_id']} skipped on {check['resource']} without a reason"
        )


def test_every_check_skipped_for_all_overlays_is_justified() -> None:
    """Each id under `skip-check:` in .checkov.yaml has a comment above it naming it."""
    text = (ROOT / ".checkov.yaml").read_text(encoding="utf-8")
    config = yaml.safe_load(text)
    comments = "\n".join(line for line in text.splitlines() if line.strip().startswith("#"))
    for check in config.get("skip-check", []):
        assert f"{check} " in comments, f".checkov.yaml skips {check} without saying why"


# ---- what the overlays must contain ---------------------------------------------------------


def test_prod_pins_every_image_by_digest() -> None:
    docs = rendered("prod")
    images = [
        c["image"]
        for name in SERVICES
        for c in [*pod_spec(docs, name)["initContainers"], *pod_spec(docs, name)["containers"]]
    ]
    assert images
    unpinned = [i for i in images if "@sha256:" not in i]
    assert not unpinned, f"prod images without a digest: {unpinned}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_prod_has_an_ingress_and_it_is_tls_to_the_gateway(overlay: str) -> None:
    docs = rendered(overlay)
    ingresses = of_kind(docs, "Ingress")
    if overlay != "prod":
        assert not ingresses, f"{overlay} should not expose anything"
        return
    assert list(ingresses) == ["gateway"]
    spec = ingresses["gateway"]["spec"]
    tls_hosts = {host for tls in spec["tls"] for host in tls["hosts"]}
    assert all(tls.get("secretName") for tls in spec["tls"])
    for rule in spec["rules"]:
        assert rule["host"] in tls_hosts, f"{rule['host']} is served without TLS"
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend["name"] == "gateway"
            assert backend["port"] in ({"name": "http"}, {"number": PORTS["gateway"]})


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_service_exposes_the_metrics_port(overlay: str) -> None:
    for name, service in of_kind(rendered(overlay), "Service").items():
        ports = {p["port"] for p in service["spec"]["ports"]}
        targets = {p.get("targetPort") for p in service["spec"]["ports"]}
        assert ports == {PORTS[name]} and "metrics" not in targets, name


def test_prod_autoscales_the_gateway_and_ingest_on_cpu() -> None:
    docs = rendered("prod")
    deployments = of_kind(docs, "Deployment")
    autoscalers = of_kind(docs, "HorizontalPodAutoscaler")
    targets = {h["spec"]["scaleTargetRef"]["name"]: h for h in autoscalers.values()}
    assert set(targets) == {"gateway", "ingest"}
    for name, hpa in targets.items():
        spec = hpa["spec"]
        assert spec["scaleTargetRef"]["kind"] == "Deployment" and name in deployments
        assert 2 <= spec["minReplicas"] < spec["maxReplicas"]
        assert "replicas" not in deployments[name]["spec"], f"{name}: apply would reset the HPA"
        resources = [m["resource"]["name"] for m in spec["metrics"] if m["type"] == "Resource"]
        assert "cpu" in resources
        # Utilization is a share of the request: without one the HPA cannot compute it.
        for container in pod_spec(docs, name)["containers"]:
            assert container["resources"]["requests"].get("cpu"), f"{name}: no CPU request"
    assert deployments["indicators"]["spec"]["replicas"] >= 2


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_spread_over_zones_and_nodes(overlay: str) -> None:
    docs = rendered(overlay)
    for name in SERVICES:
        template = of_kind(docs, "Deployment")[name]["spec"]["template"]
        labels = template["metadata"]["labels"]
        constraints = template["spec"]["topologySpreadConstraints"]
        keys = {c["topologyKey"] for c in constraints}
        assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}, name
        for constraint in constraints:
            selector = constraint["labelSelector"]["matchLabels"]
            assert selector.items() <= labels.items(), f"{name}: spread counts other pods"
            assert constraint["maxSkew"] == 1


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_migration_may_change_the_schema(overlay: str) -> None:
    docs = rendered(overlay)
    for name in SERVICES:
        spec = pod_spec(docs, name)
        key = f"CHISO_{name.upper()}_MIGRATION_DATABASE_URL"
        [migrate] = spec["initContainers"]
        [app] = spec["containers"]
        env = {e["name"]: e for e in migrate["env"]}
        assert env[key]["valueFrom"]["secretKeyRef"]["key"] == f"{name}-migration-database-url"
        assert key not in {e["name"] for e in app.get("env", [])}, f"{name} app can migrate"
        config = of_kind(docs, "ConfigMap")[app["envFrom"][0]["configMapRef"]["name"]]
        assert key not in config["data"]
        assert config["data"].get(f"CHISO_{name.upper()}_DATABASE_RUNTIME_ROLE")


# ---- NetworkPolicies, evaluated --------------------------------------------------------------


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return False
    assert not selector.get("matchExpressions"), "the evaluator reads matchLabels only"
    return dict(selector.get("matchLabels") or {}).items() <= labels.items()


Peer = tuple[str | None, dict[str, str]]  # (namespace, pod labels); None: outside the cluster


def peer_matches(rule_peer: dict[str, Any], peer: Peer, home: str) -> bool:
    namespace, labels = peer
    if "ipBlock" in rule_peer:
        return namespace is None
    if namespace is None:
        return False
    namespace_labels = {"kubernetes.io/metadata.name": namespace}
    if "namespaceSelector" in rule_peer:
        if not selects(rule_peer["namespaceSelector"], namespace_labels):
            return False
    elif namespace != home:
        return False
    return "podSelector" not in rule_peer or selects(rule_peer["podSelector"], labels)


def port_matches(rule_ports: list[dict[str, Any]] | None, port: int, protocol: str) -> bool:
    if not rule_ports:
        return True
    for rule_port in rule_ports:
        assert isinstance(rule_port.get("port"), int), "the evaluator reads numeric ports only"
        if rule_port["port"] == port and rule_port.get("protocol", "TCP") == protocol:
            return True
    return False


def allowed(
    docs: list[dict[str, Any]],
    direction: str,
    pod: dict[str, str],
    peer: Peer,
    port: int,
    protocol: str = "TCP",
) -> bool:
    """Whether `pod` (in the overlay's namespace) may receive from (`Ingress`) or send to
    (`Egress`) `peer` on `port`: some policy selecting the pod for that direction has a rule
    admitting the peer and the port. A pod no such policy selects would be open; the default
    deny makes that impossible, and test_default_deny checks it is there."""
    home = next(d["metadata"]["name"] for d in docs if d["kind"] == "Namespace")
    field, peers_field = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    for policy in of_kind(docs, "NetworkPolicy").values():
        spec = policy["spec"]
        if direction not in spec.get("policyTypes", []) or not selects(spec["podSelector"], pod):
            continue
        for rule in spec.get(field) or []:
            peers = rule.get(peers_field)
            if (not peers or any(peer_matches(p, peer, home) for p in peers)) and port_matches(
                rule.get("ports"), port, protocol
            ):
                return True
    return False


def app(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "chiso"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_default_deny(overlay: str) -> None:
    docs = rendered(overlay)
    deny = [
        p
        for p in of_kind(docs, "NetworkPolicy").values()
        if p["spec"]["podSelector"] == {}
        and set(p["spec"]["policyTypes"]) >= {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert deny, f"{overlay} has no default-deny NetworkPolicy"
    stranger = {"app.kubernetes.io/name": "debug"}
    home = next(d["metadata"]["name"] for d in docs if d["kind"] == "Namespace")
    for name, port in PORTS.items():
        assert not allowed(docs, "Ingress", app(name), (home, stranger), port)
    assert not allowed(docs, "Egress", stranger, (None, {}), 443)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_who_may_call_whom(overlay: str) -> None:
    docs = rendered(overlay)
    home = next(d["metadata"]["name"] for d in docs if d["kind"] == "Namespace")
    controller: Peer = (INGRESS_NAMESPACE, {"app.kubernetes.io/name": "ingress-nginx"})
    prometheus: Peer = (MONITORING_NAMESPACE, {"app.kubernetes.io/name": "prometheus"})
    elsewhere: Peer = ("default", {"app.kubernetes.io/name": "gateway"})
    callers: dict[str, set[str]] = {
        "gateway": {"controller"},
        "ingest": {"gateway"},
        "indicators": {"gateway", "ingest"},
    }
    candidates: dict[str, Peer] = {
        "controller": controller,
        "prometheus": prometheus,
        "elsewhere": elsewhere,
        **{name: (home, app(name)) for name in SERVICES},
    }
    for target, port in PORTS.items():
        for label, peer in candidates.items():
            expected = label in callers[target]
            got = allowed(docs, "Ingress", app(target), peer, port)
            assert got == expected, f"{label} -> {target}:{port} allowed={got}"
            metrics = allowed(docs, "Ingress", app(target), peer, METRICS_PORT)
            assert metrics == (label == "prometheus"), f"{label} -> {target} metrics"
    # Each caller may also send what its callee may receive.
    for target, sources in callers.items():
        for source in sources - {"controller"}:
            assert allowed(docs, "Egress", app(source), (home, app(target)), PORTS[target])
    assert not allowed(docs, "Egress", app("indicators"), (home, app("ingest")), PORTS["ingest"])
    assert not allowed(docs, "Egress", app("ingest"), (home, app("gateway")), PORTS["gateway"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_egress_to_dns_database_redis_and_collector(overlay: str) -> None:
    docs = rendered(overlay)
    outside: Peer = (None, {})
    dns: Peer = ("kube-system", {"k8s-app": "kube-dns"})
    collector: Peer = (MONITORING_NAMESPACE, {"app.kubernetes.io/name": "otel-collector"})
    for name in SERVICES:
        pod = app(name)
        assert allowed(docs, "Egress", pod, dns, 53, "UDP"), f"{name}: DNS over UDP"
        assert allowed(docs, "Egress", pod, dns, 53, "TCP"), f"{name}: DNS over TCP"
        assert not allowed(docs, "Egress", pod, ("default", {}), 53, "UDP"), name
        assert allowed(docs, "Egress", pod, outside, 5432), f"{name}: PostgreSQL"
        for port in (4317, 4318):
            assert allowed(docs, "Egress", pod, collector, port), f"{name}: OTLP {port}"
        assert not allowed(docs, "Egress", pod, outside, 80), f"{name}: plain HTTP out"
        redis = allowed(docs, "Egress", pod, outside, 6379)
        assert redis == (name == "gateway"), f"{name}: Redis {redis}"
        # HTTPS out only for the gateway, to external identity providers' JWKS.
        assert allowed(docs, "Egress", pod, outside, 443) == (name == "gateway"), name


def test_the_evaluator_sees_a_policy_change() -> None:
    """Dropping the gateway's policy closes it: the evaluator reads the policies it is given."""
    docs = [
        d
        for d in rendered("prod")
        if not (d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "gateway")
    ]
    controller: Peer = (INGRESS_NAMESPACE, {})
    assert not allowed(docs, "Ingress", app("gateway"), controller, PORTS["gateway"])
    assert allowed(rendered("prod"), "Ingress", app("gateway"), controller, PORTS["gateway"])


# ---- docker-compose.yml ---------------------------------------------------------------------


def test_compose_file_matches_the_compose_specification(tmp_path: Path) -> None:
    """`docker compose config` needs the compose plugin, which is not packaged here; the
    compose specification's own JSON schema (vendored in check-jsonschema) checks the same
    structure. A misspelt key must fail it too."""
    bad = tmp_path / "misspelt.yml"
    bad.write_text("services:\n  app:\n    image: chiso\n    restrat: always\n", encoding="utf-8")
    command = [uv(), "tool", "run", "--exclude-newer", TOOLS_AS_OF]
    command += ["--from", CHECK_JSONSCHEMA, "check-jsonschema"]
    command += ["--builtin-schema", "vendor.compose-spec"]
    good = subprocess.run(
        [*command, str(ROOT / "docker-compose.yml")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert good.returncode == 0, good.stdout + good.stderr
    wrong = subprocess.run(
        [*command, str(bad)], capture_output=True, text=True, timeout=600, check=False
    )
    assert wrong.returncode == 1 and "restrat" in wrong.stdout, wrong.stdout + wrong.stderr
