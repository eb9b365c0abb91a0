"""Offline checks of the deployment files: Dockerfile, docker-compose.yml and deploy/k8s.

No Docker engine or cluster is needed. The YAML checks need PyYAML and are skipped without
it; the kustomize build check runs only where `kustomize` or `kubectl` is on the PATH.
"""

from __future__ import annotations

import fnmatch
import functools
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
BASE = K8S / "base"
OVERLAYS = ("dev", "prod")
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

# The contract the Python code implements.
PORTS = {"gateway": 8000, "ingest": 8001, "indicators": 8002}
SERVICES = tuple(PORTS)
UPSTREAMS = {
    "gateway": {"INGEST_URL": "ingest", "INDICATORS_URL": "indicators"},
    "ingest": {"INDICATORS_URL": "indicators"},
    "indicators": {},
}
METRICS_PORT = 9102
LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"
IMAGE = "chiso"
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
DEPRECATED_KUSTOMIZE_FIELDS = (
    "bases",
    "commonLabels",
    "patchesStrategicMerge",
    "patchesJson6902",
    "vars",
)


def prefix(service: str) -> str:
    return f"CHISO_{service.upper()}_"


def yaml_files() -> list[Path]:
    """Every YAML file under deploy/, but a Helm chart's templates: those are Go templates, and
    tests/test_helm.py checks what they render."""
    files = sorted(
        p
        for p in DEPLOY.rglob("*")
        if p.suffix in (".yaml", ".yml")
        and not (p.parent.name == "templates" and (p.parent.parent / "Chart.yaml").is_file())
    )
    return [COMPOSE_FILE, *files]


# ---- YAML loading ---------------------------------------------------------------------------


@functools.cache
def strict_loader() -> Any:
    """A SafeLoader that rejects duplicate keys, which PyYAML otherwise lets the last one win."""
    yaml = pytest.importorskip("yaml")

    class StrictLoader(yaml.SafeLoader):  # type: ignore[misc, name-defined]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # `<<: *anchor` keys may be overridden by explicit ones
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return StrictLoader


def load_all(path: Path) -> list[Any]:
    yaml = pytest.importorskip("yaml")
    text = path.read_text(encoding="utf-8")
    return [doc for doc in yaml.load_all(text, Loader=strict_loader()) if doc is not None]


def load_one(path: Path) -> Any:
    docs = load_all(path)
    assert len(docs) == 1, f"{path} should hold exactly one YAML document"
    return docs[0]


# ---- a small, partial kustomize: enough to find what the files refer to ---------------------


def kustomization_file(directory: Path) -> Path:
    for name in KUSTOMIZATION_NAMES:
        if (directory / name).is_file():
            return directory / name
    raise AssertionError(f"{directory} has no kustomization.yaml")


def kustomization_files() -> list[Path]:
    return sorted(p for p in K8S.rglob("*") if p.name in KUSTOMIZATION_NAMES)


def parse_literals(lines: list[str]) -> dict[str, str]:
    return {key: value for key, _, value in (line.partition("=") for line in lines)}


def parse_env_file(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return parse_literals([ln for ln in lines if ln.strip() and not ln.startswith("#")])


def collect(directory: Path) -> list[dict[str, Any]]:
    """The resources a kustomization lists (recursively) plus its generated ConfigMaps.

    Patches are not applied: the tests check patch targets separately.
    """
    kfile = kustomization_file(directory)
    kust = load_one(kfile)
    resources: list[dict[str, Any]] = []
    for entry in kust.get("resources", []):
        target = (directory / entry).resolve()
        resources.extend(collect(target) if target.is_dir() else load_all(target))
    for gen in kust.get("configMapGenerator", []):
        data = parse_literals(gen.get("literals", []))
        for env_file in gen.get("envs", []):
            data.update(parse_env_file(directory / env_file))
        behavior = gen.get("behavior", "create")
        if behavior == "create":
            resources.append(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": gen["name"]},
                    "data": data,
                }
            )
        else:
            existing = find(resources, "ConfigMap", gen["name"])
            assert existing is not None, f"{kfile}: {behavior} of unknown ConfigMap {gen['name']}"
            existing["data"] = data if behavior == "replace" else {**existing["data"], **data}
    return resources


def find(resources: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any] | None:
    for res in resources:
        if res.get("kind") == kind and res.get("metadata", {}).get("name") == name:
            return res
    return None


def by_kind(resources: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {
        r["metadata"]["name"]: r for r in resources if r.get("kind") == kind
    }
    return found


@functools.cache
def base_resources() -> list[dict[str, Any]]:
    return collect(BASE)


def deployment(service: str) -> dict[str, Any]:
    found = find(base_resources(), "Deployment", service)
    assert found is not None, f"base has no Deployment {service}"
    return found


def pod_spec(service: str) -> dict[str, Any]:
    spec: dict[str, Any] = deployment(service)["spec"]["template"]["spec"]
    return spec


def app_container(service: str) -> dict[str, Any]:
    containers = pod_spec(service)["containers"]
    named: list[dict[str, Any]] = [c for c in containers if c["name"] == service]
    assert len(named) == 1, f"Deployment {service} needs one container named {service}"
    return named[0]


def all_containers(service: str) -> list[dict[str, Any]]:
    spec = pod_spec(service)
    return [*spec.get("initContainers", []), *spec["containers"]]


def container_env(service: str, container: dict[str, Any]) -> dict[str, Any]:
    """Name -> literal value or valueFrom mapping, envFrom ConfigMaps first as Kubernetes does."""
    env: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef")
        assert ref is not None, f"{service}: envFrom only from ConfigMaps (secrets by key)"
        config = find(base_resources(), "ConfigMap", ref["name"])
        assert config is not None, f"{service}: envFrom names unknown ConfigMap {ref['name']}"
        env.update(config["data"])
    for var in container.get("env", []):
        env[var["name"]] = var["value"] if "value" in var else var["valueFrom"]
    return env


def json_pointer_exists(doc: Any, pointer: str) -> bool:
    node = doc
    for raw in pointer.lstrip("/").split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True


QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$")
FACTORS = {
    None: 1.0,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
}


def quantity(value: object) -> float:
    match = QUANTITY.match(str(value))
    assert match, f"not a Kubernetes quantity: {value!r}"
    return float(match.group(1)) * FACTORS[match.group(2)]


# ---- every YAML file ------------------------------------------------------------------------


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_yaml_parses_without_duplicate_keys(path: Path) -> None:
    assert path.is_file(), f"{path} is missing"
    docs = load_all(path)
    assert docs, f"{path} holds no YAML document"
    for doc in docs:
        assert isinstance(doc, dict | list), f"{path}: a document is a {type(doc).__name__}"


# ---- kustomizations -------------------------------------------------------------------------


def test_kustomize_layout() -> None:
    found = {p.parent.relative_to(K8S).as_posix() for p in kustomization_files()}
    expected = {"base", *(f"base/{s}" for s in SERVICES), *(f"overlays/{o}" for o in OVERLAYS)}
    assert expected <= found
    assert (K8S / "README.md").is_file()


@pytest.mark.parametrize(
    "kfile", kustomization_files(), ids=lambda p: str(p.parent.relative_to(K8S))
)
def test_kustomization_references_exist(kfile: Path) -> None:
    kust = load_one(kfile)
    directory = kfile.parent
    assert kust.get("kind") == "Kustomization"
    for field in DEPRECATED_KUSTOMIZE_FIELDS:
        assert field not in kust, f"{kfile}: `{field}` is deprecated in kustomize v5"
    assert kust.get("resources"), f"{kfile} lists no resources"
    for entry in kust["resources"]:
        target = directory / entry
        if target.is_dir():
            kustomization_file(target)
        else:
            assert target.is_file(), f"{kfile}: resource {entry} does not exist"
    for patch in kust.get("patches", []):
        assert "path" in patch or "patch" in patch, f"{kfile}: a patch has neither path nor patch"
        if "path" in patch:
            assert (directory / patch["path"]).is_file(), f"{kfile}: patch {patch['path']} missing"
    for gen in [*kust.get("configMapGenerator", []), *kust.get("secretGenerator", [])]:
        for ref in [*gen.get("envs", []), *gen.get("files", [])]:
            path = ref.split("=", 1)[-1]
            assert (directory / path).is_file(), f"{kfile}: generator file {path} missing"


def test_base_defines_each_service_once() -> None:
    resources = base_resources()
    for kind in ("Deployment", "Service", "ServiceAccount"):
        names = [r["metadata"]["name"] for r in resources if r.get("kind") == kind]
        assert sorted(names) == sorted(SERVICES), f"base {kind}s: {names}"
    keys = [(r["kind"], r["metadata"]["name"]) for r in resources]
    assert len(keys) == len(set(keys)), "base defines a resource twice"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay(overlay: str) -> None:
    directory = K8S / "overlays" / overlay
    kust = load_one(kustomization_file(directory))
    resolved = {(directory / r).resolve() for r in kust["resources"]}
    assert BASE.resolve() in resolved, f"{overlay} does not build on base"
    assert kust.get("namespace"), f"{overlay} sets no namespace"
    # Service names are part of the URLs in the ConfigMaps; a prefix would break them.
    assert "namePrefix" not in kust
    assert "nameSuffix" not in kust
    images = {i["name"]: i for i in kust.get("images", [])}
    assert IMAGE in images, f"{overlay} does not set the image through `images:`"
    assert images[IMAGE].get("newTag") or images[IMAGE].get("digest")
    assert str(images[IMAGE].get("newTag")) != "latest"

    resources = collect(directory)
    assert any(
        r["kind"] == "Namespace" and r["metadata"]["name"] == kust["namespace"] for r in resources
    ), f"{overlay} does not create its namespace"
    for patch in kust.get("patches", []):
        target = patch.get("target")
        body = load_all(directory / patch["path"]) if "path" in patch else []
        if target is not None:
            matches = [
                r
                for r in resources
                if r.get("kind") == target["kind"]
                and target.get("name", r["metadata"]["name"]) == r["metadata"]["name"]
            ]
            assert matches, f"{overlay}: patch target {target} matches nothing"
            if body and isinstance(body[0], list):  # JSON 6902: every path must exist
                for op in body[0]:
                    for res in matches:
                        assert op["op"] in ("replace", "remove", "test")
                        assert json_pointer_exists(res, op["path"]), (
                            f"{overlay}: {op['path']} not in {res['metadata']['name']}"
                        )
        else:
            for doc in body:
                assert find(resources, doc["kind"], doc["metadata"]["name"]) is not None, (
                    f"{overlay}: patch for unknown {doc['kind']} {doc['metadata']['name']}"
                )


def test_prod_runs_several_replicas_with_disruption_budgets() -> None:
    """Each service runs at least two pods in prod: a fixed count from a patch, or an HPA's
    minimum. A Deployment an HPA scales sets no count, or each `kubectl apply` would reset it."""
    directory = K8S / "overlays" / "prod"
    kust = load_one(kustomization_file(directory))
    replicas: dict[str, int] = {}
    for patch in kust.get("patches", []):
        for doc in load_all(directory / patch["path"]):
            if doc.get("kind") == "Deployment" and "replicas" in doc.get("spec", {}):
                replicas[doc["metadata"]["name"]] = doc["spec"]["replicas"]
    autoscalers = by_kind(collect(directory), "HorizontalPodAutoscaler")
    scaled = {h["spec"]["scaleTargetRef"]["name"]: h["spec"] for h in autoscalers.values()}
    assert {"gateway", "ingest"} <= set(scaled), "the gateway and ingest are autoscaled"
    assert not set(scaled) & set(replicas), "a Deployment an HPA scales must not set replicas"
    for service in scaled:
        assert "replicas" not in deployment(service)["spec"], f"base sets {service}'s replicas"
        replicas[service] = scaled[service].get("minReplicas", 1)
    assert set(replicas) == set(SERVICES)
    assert all(n >= 2 for n in replicas.values()), replicas
    budgets = by_kind(collect(directory), "PodDisruptionBudget")
    selected = {
        b["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for b in budgets.values()
    }
    assert selected == set(SERVICES)


# ---- Deployments ----------------------------------------------------------------------------


def resolve_port(service: str, port: object) -> int:
    if isinstance(port, int):
        return port
    for declared in app_container(service).get("ports", []):
        if declared.get("name") == port:
            return int(declared["containerPort"])
    raise AssertionError(f"{service}: no container port named {port!r}")


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_runs_the_service_on_its_port(service: str) -> None:
    dep = deployment(service)
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    container = app_container(service)
    port = PORTS[service]
    assert container["image"].split(":")[0] == IMAGE
    assert container["args"] == ["serve", service, "--host", "0.0.0.0", "--port", str(port)]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": port, "metrics": METRICS_PORT}
    env = container_env(service, container)
    assert env.get(prefix(service) + "METRICS_PORT") == str(METRICS_PORT)


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_migrates_before_serving(service: str) -> None:
    inits = pod_spec(service).get("initContainers", [])
    migrations = [c for c in inits if c.get("args") == ["migrate", service]]
    assert len(migrations) == 1, f"{service}: no init container running `chiso migrate {service}`"
    assert migrations[0]["image"] == app_container(service)["image"]
    urls = []
    for container in (migrations[0], app_container(service)):
        env = container_env(service, container)
        assert env.get(prefix(service) + "MIGRATE_ON_START") == "false"
        url = env.get(prefix(service) + "DATABASE_URL")
        assert isinstance(url, dict) and "secretKeyRef" in url, f"{service}: URL from a Secret"
        urls.append(url)
    assert urls[0] == urls[1], f"{service}: the migration must use the service's database"
    # The schema changes as the owner role; the app logs in as a role without DDL.
    migration_url = prefix(service) + "MIGRATION_DATABASE_URL"
    owner = container_env(service, migrations[0]).get(migration_url)
    assert isinstance(owner, dict), f"{service}: the migration has no {migration_url}"
    assert owner["secretKeyRef"]["key"] == f"{service}-migration-database-url"
    assert migration_url not in container_env(service, app_container(service))
    role = container_env(service, app_container(service)).get(
        prefix(service) + "DATABASE_RUNTIME_ROLE"
    )
    assert role, f"{service}: no DATABASE_RUNTIME_ROLE for the migration to grant"


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_probes(service: str) -> None:
    container = app_container(service)
    for probe, path in (("livenessProbe", LIVENESS_PATH), ("readinessProbe", READINESS_PATH)):
        assert probe in container, f"{service} has no {probe}"
        get = container[probe]["httpGet"]
        assert get["path"] == path, f"{service} {probe} checks {get['path']}"
        assert resolve_port(service, get["port"]) == PORTS[service]
    if "startupProbe" in container:
        assert container["startupProbe"]["httpGet"]["path"] == LIVENESS_PATH


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_resources(service: str) -> None:
    for container in all_containers(service):
        resources = container.get("resources", {})
        for what in ("cpu", "memory"):
            request = resources.get("requests", {}).get(what)
            limit = resources.get("limits", {}).get(what)
            assert request is not None and limit is not None, (
                f"{service}/{container['name']}: {what} needs a request and a limit"
            )
            assert quantity(request) <= quantity(limit), f"{service}/{container['name']} {what}"


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_security(service: str) -> None:
    spec = pod_spec(service)
    pod_security = spec.get("securityContext", {})
    assert pod_security.get("runAsNonRoot") is True, f"{service}: pod runAsNonRoot"
    assert pod_security.get("runAsUser", 1) != 0
    assert spec.get("serviceAccountName") == service
    assert spec.get("automountServiceAccountToken") is False
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for container in all_containers(service):
        name = f"{service}/{container['name']}"
        security = container.get("securityContext", {})
        assert security.get("runAsNonRoot", True) is True, name
        assert security.get("allowPrivilegeEscalation") is False, name
        assert security.get("readOnlyRootFilesystem") is True, name
        assert "ALL" in security.get("capabilities", {}).get("drop", []), name
        assert not security.get("capabilities", {}).get("add"), name
        assert not security.get("privileged", False), name
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        data_dir = container_env(service, container).get(prefix(service) + "DATA_DIR")
        for path in ("/tmp", data_dir):
            assert path in mounts, f"{name}: {path} is not a mounted volume"
            assert "emptyDir" in volumes[mounts[path]], f"{name}: {path} is not an emptyDir"


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_settings(service: str) -> None:
    env = container_env(service, app_container(service))
    own = prefix(service)
    strays = [k for k in env if k.startswith("CHISO_") and not k.startswith(own)]
    assert not strays, f"{service} gets another service's settings: {strays}"
    secret_vars = [
        "DATABASE_URL",
        "SERVICE_TOKEN_SECRET",
        *(["JWT_SECRET"] if service == "gateway" else []),
    ]
    for var in secret_vars:
        value = env.get(own + var)
        assert isinstance(value, dict) and "secretKeyRef" in value, f"{own}{var} from a Secret"
    services = by_kind(base_resources(), "Service")
    for var, upstream in UPSTREAMS[service].items():
        url = urlsplit(env[own + var])
        assert url.scheme == "http"
        assert url.hostname == upstream and upstream in services
        assert url.port == PORTS[upstream]
    if service == "gateway":
        assert urlsplit(env[own + "REDIS_URL"]).scheme in ("redis", "rediss")


def test_readme_names_every_secret_key() -> None:
    readme = (K8S / "README.md").read_text(encoding="utf-8")
    keys = set()
    for service in SERVICES:
        for container in all_containers(service):
            for value in container_env(service, container).values():
                if isinstance(value, dict) and "secretKeyRef" in value:
                    keys.add(value["secretKeyRef"]["key"])
                    assert value["secretKeyRef"]["name"] in readme
    assert keys, "no Deployment reads a Secret"
    missing = sorted(k for k in keys if f"`{k}`" not in readme)
    assert not missing, f"deploy/k8s/README.md does not list the Secret keys {missing}"


@pytest.mark.parametrize("service", SERVICES)
def test_service_targets_the_deployment(service: str) -> None:
    svc = find(base_resources(), "Service", service)
    assert svc is not None
    labels = deployment(service)["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= labels.items()
    [port] = svc["spec"]["ports"]
    assert port["port"] == PORTS[service]
    assert resolve_port(service, port.get("targetPort", port["port"])) == PORTS[service]


def kustomize_command() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_builds(overlay: str) -> None:
    command = kustomize_command()
    if command is None:
        pytest.skip("neither kustomize nor kubectl is installed")
    result = subprocess.run(
        [*command, str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    yaml = pytest.importorskip("yaml")
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    deployments = by_kind(docs, "Deployment")
    assert set(deployments) == set(SERVICES)
    namespace = load_one(kustomization_file(K8S / "overlays" / overlay))["namespace"]
    for doc in docs:
        if doc["kind"] not in ("Namespace",):
            assert doc["metadata"].get("namespace") == namespace, doc["metadata"]["name"]
    for dep in deployments.values():
        spec = dep["spec"]["template"]["spec"]
        for container in [*spec["initContainers"], *spec["containers"]]:
            assert ":" in container["image"].rsplit("/", 1)[-1], container["image"]
            for source in container.get("envFrom", []):
                name = source["configMapRef"]["name"]
                assert name in by_kind(docs, "ConfigMap"), f"{name} not rendered"


# ---- docker-compose.yml ---------------------------------------------------------------------


@functools.cache
def compose() -> dict[str, Any]:
    doc: dict[str, Any] = load_one(COMPOSE_FILE)
    return doc


def compose_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose()["services"]
    return services


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def command_list(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else list(command)


def compose_env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def interpolate_defaults(value: str) -> str:
    """`${VAR:-default}` -> default, as compose does with VAR unset."""
    return re.sub(r"\$\{[A-Z0-9_]+:?-([^}]*)\}", r"\1", value)


def test_compose_references_defined_services() -> None:
    services = compose_services()
    volumes = set(compose().get("volumes") or {})
    conditions = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, service in services.items():
        for dep, condition in depends_on(service).items():
            assert dep in services, f"{name} depends on undefined service {dep}"
            assert condition in conditions, f"{name}: unknown condition {condition}"
            if condition == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep}'s healthcheck"
        for link in service.get("links", []):
            assert link.split(":")[0] in services, f"{name} links undefined {link}"
        for source in service.get("volumes_from", []):
            assert source.split(":")[0] in services, f"{name}: volumes_from {source}"
        network_mode = str(service.get("network_mode", ""))
        if network_mode.startswith("service:"):
            assert network_mode.split(":", 1)[1] in services
        for mount in service.get("volumes", []):
            source = mount.split(":")[0] if isinstance(mount, str) else mount.get("source", "")
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            elif source:
                assert source in volumes, f"{name} uses undeclared volume {source}"


def test_compose_start_order_has_no_cycle() -> None:
    services = compose_services()
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"depends_on cycle: {' -> '.join((*path, name))}"
        if name not in done:
            for dep in depends_on(services[name]):
                visit(dep, (*path, name))
            done.add(name)

    for name in services:
        visit(name, ())


def test_compose_infrastructure() -> None:
    services = compose_services()
    for name in ("postgres", "redis"):
        assert name in services and "healthcheck" in services[name], f"{name} with a healthcheck"
    mounts = [m for m in services["postgres"].get("volumes", []) if isinstance(m, str)]
    init = [m for m in mounts if "/docker-entrypoint-initdb.d" in m]
    assert init, "postgres mounts no init script"
    script = (ROOT / init[0].split(":")[0]).read_text(encoding="utf-8")
    for service in SERVICES:
        assert re.search(rf"CREATE DATABASE\s+chiso_{service}\b", script, re.IGNORECASE), service


def test_only_the_gateway_is_published() -> None:
    published = {n: s["ports"] for n, s in compose_services().items() if s.get("ports")}
    assert set(published) == {"gateway"}, f"published: {sorted(published)}"
    targets = {int(str(p).split(":")[-1].split("/")[0]) for p in published["gateway"]}
    assert targets == {PORTS["gateway"]}


@pytest.mark.parametrize("service", SERVICES)
def test_compose_migration_job(service: str) -> None:
    services = compose_services()
    job = services.get(f"migrate-{service}")
    assert job is not None, f"compose has no migrate-{service}"
    assert command_list(job) == ["migrate", service]
    assert str(job.get("restart", "no")) == "no"
    assert depends_on(job).get("postgres") == "service_healthy"
    assert job.get("image") == services[service].get("image")
    url = prefix(service) + "DATABASE_URL"
    assert compose_env(job).get(url) == compose_env(services[service]).get(url), url


@pytest.mark.parametrize("service", SERVICES)
def test_compose_service(service: str) -> None:
    services = compose_services()
    app = services[service]
    port = PORTS[service]
    assert command_list(app) == ["serve", service, "--host", "0.0.0.0", "--port", str(port)]
    deps = depends_on(app)
    assert deps.get(f"migrate-{service}") == "service_completed_successfully"
    for upstream in UPSTREAMS[service].values():
        assert deps.get(upstream) == "service_healthy", f"{service} should wait for {upstream}"
    if service == "gateway":
        assert deps.get("redis") == "service_healthy"

    test = app["healthcheck"]["test"]
    probe = " ".join(test) if isinstance(test, list) else test
    assert "python" in probe and "curl" not in probe and "wget" not in probe
    assert re.search(
        rf"//(127\.0\.0\.1|localhost):{port}({READINESS_PATH}|{LIVENESS_PATH})\b", probe
    ), f"{service} healthcheck does not call its own port: {probe}"

    env = {k: interpolate_defaults(v) for k, v in compose_env(app).items()}
    own = prefix(service)
    strays = [k for k in env if k.startswith("CHISO_") and not k.startswith(own)]
    assert not strays, f"{service} gets another service's settings: {strays}"
    assert env[own + "MIGRATE_ON_START"] == "false"
    db = urlsplit(env[own + "DATABASE_URL"])
    assert db.scheme == "postgresql+asyncpg"
    assert db.hostname == "postgres" and db.path == f"/chiso_{service}"
    for var, upstream in UPSTREAMS[service].items():
        url = urlsplit(env[own + var])
        assert (url.hostname, url.port) == (upstream, PORTS[upstream]), f"{own}{var}"
    if service == "gateway":
        assert urlsplit(env[own + "REDIS_URL"]).hostname == "redis"
        assert env.get(own + "JWT_SECRET"), "the gateway needs a JWT secret"
    assert len(env.get(own + "SERVICE_TOKEN_SECRET", "")) >= 32, "a service token secret"


def test_services_share_one_service_token_secret() -> None:
    """The three services sign and check each other's calls with one key: one Secret key in
    Kubernetes, one variable in compose."""
    keys = set()
    for service in SERVICES:
        value = container_env(service, app_container(service))[
            prefix(service) + "SERVICE_TOKEN_SECRET"
        ]
        keys.add(value["secretKeyRef"]["key"])
    assert len(keys) == 1, keys
    services = compose_services()
    values = {compose_env(services[s])[prefix(s) + "SERVICE_TOKEN_SECRET"] for s in SERVICES}
    assert len(values) == 1, values


# ---- Dockerfile -----------------------------------------------------------------------------


@functools.cache
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuations joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    return instructions


def final_stage() -> list[tuple[str, str]]:
    steps = dockerfile()
    last_from = max(i for i, (kw, _) in enumerate(steps) if kw == "FROM")
    return steps[last_from:]


def workspace_members() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    members: list[str] = []
    for pattern in pyproject["tool"]["uv"]["workspace"]["members"]:
        members += sorted(
            p.parent.relative_to(ROOT).as_posix() for p in ROOT.glob(f"{pattern}/pyproject.toml")
        )
    return members


def copy_sources(args: str) -> list[str]:
    parts = [p for p in shlex.split(args) if not p.startswith("--")]
    return [p.rstrip("/") for p in parts[:-1]]


def test_dockerfile_syncs_dependencies_before_sources() -> None:
    steps = dockerfile()
    syncs = [i for i, (kw, args) in enumerate(steps) if kw == "RUN" and "uv sync" in args]
    assert len(syncs) >= 2, "expected two `uv sync` steps (dependencies, then the workspace)"
    for i in syncs:
        args = steps[i][1]
        assert "--frozen" in args or "--locked" in args, f"unlocked sync: {args}"
        assert "--no-dev" in args, f"dev dependencies in the image: {args}"
        assert "--all-groups" not in args and "--group" not in args
    first, last = steps[syncs[0]][1], steps[syncs[-1]][1]
    assert "--no-install-workspace" in first
    assert "--no-install-workspace" not in last

    before = [
        s
        for i, (kw, a) in enumerate(steps)
        if kw == "COPY" and i < syncs[0] and "--from" not in a
        for s in copy_sources(a)
    ]
    expected = {"pyproject.toml", "uv.lock", *(f"{m}/pyproject.toml" for m in workspace_members())}
    assert set(before) == expected, "before the first sync, copy only the lock and pyprojects"

    between = [
        s
        for i, (kw, a) in enumerate(steps)
        if kw == "COPY" and syncs[0] < i < syncs[-1]
        for s in copy_sources(a)
    ]
    for member in [".", *workspace_members()]:
        covered = any(s in (".", member) or member.startswith(s + "/") for s in between)
        assert covered or (member == "." and "src" in between), f"{member} sources not copied"


def test_dockerfile_final_stage_runs_as_non_root() -> None:
    stage = final_stage()
    users = [args for kw, args in stage if kw == "USER"]
    assert users, "the final stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert user.isdigit(), "use a numeric UID so Kubernetes can check runAsNonRoot"
    assert not any(kw == "RUN" and "uv " in args for kw, args in stage), "uv runs in final stage"


def test_kubernetes_runs_as_the_image_user() -> None:
    user = [args for kw, args in final_stage() if kw == "USER"][-1].split(":")[0]
    for service in SERVICES:
        assert pod_spec(service)["securityContext"].get("runAsUser", int(user)) == int(user), (
            service
        )


def test_dockerfile_entrypoint_is_the_console_script() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "chiso" in pyproject["project"]["scripts"]
    entrypoints = [args for kw, args in final_stage() if kw == "ENTRYPOINT"]
    assert entrypoints and entrypoints[-1].replace(" ", "") == '["chiso"]'
    exposed = {int(p) for kw, args in final_stage() if kw == "EXPOSE" for p in args.split()}
    assert exposed == set(PORTS.values())


def test_dockerignore_keeps_local_state_out_but_not_sources() -> None:
    patterns = [
        line.strip().lstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith("!")
    ]

    def ignored(path: str) -> bool:
        return any(
            fnmatch.fnmatch(path, pat) or fnmatch.fnmatch(path, pat.removeprefix("**/"))
            for pat in patterns
        )

    for path in (".venv", ".git", "shared/.venv", ".chiso"):
        assert ignored(path), f".dockerignore should exclude {path}"
    copied = {
        s for kw, a in dockerfile() if kw == "COPY" and "--from" not in a for s in copy_sources(a)
    }
    for path in sorted(copied):
        assert not ignored(path), f".dockerignore excludes {path}, which the Dockerfile copies"


# ---- every deployed variable is a setting the service reads ----------------------------------


def settings_class(service: str) -> Any:
    import importlib

    return importlib.import_module(f"chiso_{service}.settings").Settings


def check_settings(service: str, env: dict[str, Any], where: str) -> None:
    """Each CHISO_<SERVICE>_* name is a field of the service's Settings, and literal values
    parse: a misspelt variable would otherwise be ignored without a word."""
    own = prefix(service)
    cls = settings_class(service)
    fields = {name.upper() for name in cls.model_fields}
    unknown = [k for k in env if k.startswith(own) and k[len(own) :].split("__")[0] not in fields]
    assert not unknown, f"{where}: {service} does not read {unknown}"
    literals = {
        k[len(own) :].lower(): v for k, v in env.items() if k.startswith(own) and isinstance(v, str)
    }
    literals.pop("jwt_secret", None)
    nested = {k: v for k, v in literals.items() if "__" in k}
    flat = {k: v for k, v in literals.items() if "__" not in k}
    cls.model_validate(flat)  # raises if a value does not parse
    assert all(k.split("__")[0] in cls.model_fields for k in nested)


@pytest.mark.parametrize("service", SERVICES)
def test_kubernetes_variables_are_settings(service: str) -> None:
    for container in all_containers(service):
        check_settings(service, container_env(service, container), f"k8s {container['name']}")


@pytest.mark.parametrize("service", SERVICES)
def test_compose_variables_are_settings(service: str) -> None:
    app = compose_services()[service]
    env = {k: interpolate_defaults(v) for k, v in compose_env(app).items()}
    check_settings(service, env, "compose")
