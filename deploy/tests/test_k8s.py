"""The Kubernetes manifests in deploy/k8s parse and carry what running many replicas needs: probes
on /ready and /health, measured resource requests, a Service, an autoscaler, settings from a
ConfigMap and secrets from a Secret."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from scripts.front import FrontLimits
from scripts.services import ROOT

K8S = ROOT / "deploy" / "k8s"
RESOURCE_FILES = sorted(path for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")
DOCUMENTS = [doc for path in RESOURCE_FILES for doc in yaml.safe_load_all(path.read_text()) if doc]
SECRET = "digits-secrets"
PORTS = {"ml-server": 8001, "user-server": 8000}
SERVICE_OF = {"ml-server": "ml_server", "user-server": "user_server"}
MIB = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}


def find(kind: str, name: str) -> dict:
    matches = [doc for doc in DOCUMENTS if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def container(deployment: str) -> dict:
    (only,) = find("Deployment", deployment)["spec"]["template"]["spec"]["containers"]
    return only


def mebibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi)", quantity).groups()
    return float(number) * MIB[unit]


def port_number(spec: dict, port: int | str) -> int:
    if isinstance(port, int):
        return port
    return next(p["containerPort"] for p in spec["ports"] if p["name"] == port)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == [path.name for path in RESOURCE_FILES]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_kustomize_builds_the_manifests() -> None:
    result = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    kinds = {doc["kind"] for doc in yaml.safe_load_all(result.stdout)}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "ConfigMap", "Job"} <= kinds


def test_ml_server_readiness_is_ready_and_liveness_is_health() -> None:
    spec = container("ml-server")
    assert spec["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert spec["livenessProbe"]["httpGet"]["path"] == "/health"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        get = spec[probe]["httpGet"]
        assert port_number(spec, get["port"]) == PORTS["ml-server"]
        # Django answers 400 to a Host it does not allow; probes would otherwise send the pod IP.
        assert {"name": "Host", "value": "localhost"} in get["httpHeaders"]


@pytest.mark.parametrize("deployment", PORTS)
def test_probe_host_is_allowed_by_the_service_settings(deployment: str) -> None:
    settings = find("ConfigMap", f"{deployment}-settings")["data"]
    assert "localhost" in settings["ALLOWED_HOSTS"].split(",")


@pytest.mark.parametrize("deployment", PORTS)
def test_memory_request_covers_the_measured_resident_size(deployment: str) -> None:
    annotations = find("Deployment", deployment)["metadata"]["annotations"]
    measured = float(annotations["digits/measured-rss-mib"])
    assert "scripts.measure_memory" in annotations["digits/measured-by"]
    resources = container(deployment)["resources"]
    assert mebibytes(resources["requests"]["memory"]) >= measured
    assert mebibytes(resources["limits"]["memory"]) >= 1.25 * measured  # room for request bursts
    assert resources["requests"]["cpu"]


@pytest.mark.parametrize("deployment", PORTS)
def test_every_container_has_requests_and_a_memory_limit(deployment: str) -> None:
    resources = container(deployment)["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"])
    assert "memory" in resources["limits"]


@pytest.mark.parametrize("deployment", PORTS)
def test_service_selects_the_deployment_pods_on_their_port(deployment: str) -> None:
    service = find("Service", deployment)
    labels = find("Deployment", deployment)["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    (port,) = service["spec"]["ports"]
    assert port_number(container(deployment), port["targetPort"]) == PORTS[deployment]


def test_autoscaler_scales_the_ml_server_on_cpu_from_two_replicas() -> None:
    hpa = find("HorizontalPodAutoscaler", "ml-server")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ml-server"}
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"


@pytest.mark.parametrize("deployment", PORTS)
def test_settings_come_from_a_config_map_the_service_reads(deployment: str, settings_read_by) -> None:
    (source,) = container(deployment)["envFrom"]
    settings = find("ConfigMap", source["configMapRef"]["name"])["data"]
    assert settings["DEBUG"] == "0"
    assert set(settings) <= settings_read_by(SERVICE_OF[deployment])


@pytest.mark.parametrize(
    ("workload", "keys"),
    [("ml-server", {"SECRET_KEY", "DATABASE_URL"}), ("user-server", {"SECRET_KEY"})],
)
def test_secrets_are_referenced_from_the_secret_never_written_here(workload: str, keys: set[str]) -> None:
    env = {item["name"]: item for item in container(workload).get("env", [])}
    for key in keys:
        assert env[key]["valueFrom"]["secretKeyRef"] == {"name": SECRET, "key": key}
    assert not any(doc["kind"] == "Secret" for doc in DOCUMENTS)


def test_migrations_run_once_in_a_job_with_the_same_image_and_database() -> None:
    job = find("Job", "ml-server-migrate")
    (spec,) = job["spec"]["template"]["spec"]["containers"]
    assert spec["image"] == container("ml-server")["image"]
    assert spec["command"][-2:] == ["migrate", "--noinput"]
    assert {item["name"] for item in spec["env"]} >= {"SECRET_KEY", "DATABASE_URL"}
    assert "migrate" not in " ".join(container("ml-server")["command"])


@pytest.mark.parametrize("deployment", PORTS)
def test_pods_run_as_the_images_non_root_user(deployment: str) -> None:
    pod = find("Deployment", deployment)["spec"]["template"]["spec"]
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 10001}
    assert container(deployment)["securityContext"]["allowPrivilegeEscalation"] is False


def test_ml_server_runs_gunicorn_with_the_service_config() -> None:
    command = container("ml-server")["command"]
    assert command == ["gunicorn", "-c", "gunicorn.conf.py", "config.wsgi:application"]
    assert (ROOT / "ml_server" / "gunicorn.conf.py").is_file()


def test_images_are_the_ones_docker_compose_builds() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert container("ml-server")["image"] == compose["ml_server"]["image"]
    assert container("user-server")["image"] == compose["user_server"]["image"]


def test_ingress_routes_the_page_and_the_api_to_their_services() -> None:
    ingress = find("Ingress", "digits")
    backends = {rule["http"]["paths"][0]["backend"]["service"]["name"] for rule in ingress["spec"]["rules"]}
    assert backends == set(PORTS)


CONTROLLER_SETTINGS = K8S / "ingress-nginx" / "controller-settings.yaml"
INGRESS_NGINX = "nginx.ingress.kubernetes.io/"


def test_the_ingress_carries_the_fronts_limits() -> None:
    """ingress-nginx buffers requests like `make run`'s front; the same per-client and size limits."""
    annotations = find("Ingress", "digits")["metadata"]["annotations"]
    limits = FrontLimits()
    assert annotations[INGRESS_NGINX + "limit-connections"] == str(limits.connections_per_client)
    assert annotations[INGRESS_NGINX + "proxy-request-buffering"] == "on"
    body_size = mebibytes(annotations[INGRESS_NGINX + "proxy-body-size"].replace("m", "Mi"))
    assert body_size >= 5  # the API itself answers 413 too_large past 5 MB
    assert int(annotations[INGRESS_NGINX + "proxy-read-timeout"]) > 60  # after gunicorn's own timeout


def test_the_controller_settings_carry_the_fronts_deadlines() -> None:
    settings = yaml.safe_load(CONTROLLER_SETTINGS.read_text())
    assert settings["kind"] == "ConfigMap" and settings["metadata"]["namespace"] == "ingress-nginx"
    limits = FrontLimits()
    assert settings["data"]["client-header-timeout"] == str(limits.header_timeout_s)
    assert settings["data"]["client-body-timeout"] == str(limits.body_timeout_s)
    assert settings["data"]["keep-alive"] == str(limits.keepalive_timeout_s)
    assert settings["data"]["use-forwarded-headers"] == "false"


def test_the_ml_server_trusts_exactly_the_ingress_for_client_addresses() -> None:
    assert find("ConfigMap", "ml-server-settings")["data"]["NUM_PROXIES"] == "1"
