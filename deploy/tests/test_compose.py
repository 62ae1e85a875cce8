"""docker-compose.yml (no Docker engine runs here): both services behind the nginx front (the one
published entry, with make run's template), health checks, environment, read-only models, and the
optional PostgreSQL profile."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scripts.front import INCLUDES, NGINX_DIR, PLACEHOLDER, TEMPLATE, FrontLimits
from scripts.services import ROOT

from .dockerfile import Dockerfile

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
PORTS = {"ml_server": 8001, "user_server": 8000}


def test_compose_names_both_services_the_front_and_the_postgres_profile() -> None:
    assert {"ml_server", "user_server", "front", "postgres"} <= set(SERVICES)


@pytest.mark.parametrize("name", ["ml_server", "user_server"])
def test_each_service_is_built_from_its_own_dockerfile(name: str) -> None:
    build = SERVICES[name]["build"]
    assert build["context"] == "."
    assert build["dockerfile"] == f"{name}/Dockerfile"
    assert (ROOT / build["dockerfile"]).is_file()


@pytest.mark.parametrize("name", ["ml_server", "user_server"])
def test_each_service_is_reached_only_through_the_front(name: str) -> None:
    assert "ports" not in SERVICES[name]
    assert SERVICES[name]["expose"] == [str(PORTS[name])]
    assert SERVICES["front"]["depends_on"][name]["condition"] == "service_healthy"


def test_the_front_publishes_both_contract_ports() -> None:
    published = {}
    for mapping in SERVICES["front"]["ports"]:
        host_part, container_port = mapping.rsplit(":", 1)
        published[int(container_port)] = host_part
    assert set(published) == set(PORTS.values())
    for port, host_part in published.items():
        assert str(port) in host_part  # the default of ${..._PORT:-NNNN}


def test_the_front_is_built_with_make_runs_template_and_fills_every_placeholder() -> None:
    front = SERVICES["front"]
    assert (ROOT / front["build"]["context"]).resolve() == NGINX_DIR
    copied = {source for source, _ in Dockerfile.read(NGINX_DIR / "Dockerfile", context=NGINX_DIR).copies()}
    assert {TEMPLATE.name, *INCLUDES} <= copied
    assert set(front["environment"]) == set(PLACEHOLDER.findall(TEMPLATE.read_text()))
    upstreams = {front["environment"][f"{name.upper()}_UPSTREAM"] for name in PORTS}
    assert upstreams == {f"{name}:{port}" for name, port in PORTS.items()}


def test_the_fronts_limits_default_to_make_runs() -> None:
    environment = SERVICES["front"]["environment"]
    for name, value in FrontLimits().template_values().items():
        assert environment[name] == f"${{{name}:-{value}}}"


def test_the_ml_server_trusts_exactly_the_front_for_client_addresses() -> None:
    assert SERVICES["ml_server"]["environment"]["NUM_PROXIES"] == "1"


@pytest.mark.parametrize("name", ["ml_server", "user_server"])
def test_each_service_health_check_calls_its_health_endpoint(name: str) -> None:
    check = " ".join(SERVICES[name]["healthcheck"]["test"])
    assert f"http://127.0.0.1:{PORTS[name]}/health" in check
    assert SERVICES[name]["healthcheck"]["interval"]


@pytest.mark.parametrize("name", ["ml_server", "user_server"])
def test_services_run_with_debug_off_and_a_required_secret(name: str) -> None:
    environment = SERVICES[name]["environment"]
    assert environment["DEBUG"] == "0"
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")  # compose refuses to start without one


@pytest.mark.parametrize("name", ["ml_server", "user_server"])
def test_compose_sets_only_settings_the_service_reads(name: str, settings_read_by) -> None:
    assert set(SERVICES[name]["environment"]) <= settings_read_by(name)


def test_models_are_mounted_read_only_into_the_ml_server() -> None:
    volumes = SERVICES["ml_server"]["volumes"]
    assert "./models:/app/models:ro" in volumes
    assert SERVICES["ml_server"]["environment"]["MODELS_DIR"] == "/app/models"


def test_the_page_calls_the_published_ml_server_and_cors_allows_the_page() -> None:
    assert "8001" in SERVICES["user_server"]["environment"]["ML_SERVER_URL"]
    origins = SERVICES["ml_server"]["environment"]["CORS_ALLOWED_ORIGINS"]
    assert "http://127.0.0.1:${USER_SERVER_PORT:-8000}" in origins
    assert "http://localhost:${USER_SERVER_PORT:-8000}" in origins


def test_postgres_is_optional_and_the_ml_server_takes_its_database_url() -> None:
    postgres = SERVICES["postgres"]
    assert postgres["image"] == "postgres:16"
    assert postgres["profiles"] == ["postgres"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert "DATABASE_URL" in SERVICES["ml_server"]["environment"]
    dependency = SERVICES["ml_server"]["depends_on"]["postgres"]
    assert dependency["required"] is False  # without the profile the ml_server still starts (SQLite)
    assert "postgres" not in SERVICES["user_server"].get("depends_on", {})


def test_named_volumes_are_declared() -> None:
    used = {
        volume.split(":")[0]
        for service in SERVICES.values()
        for volume in service.get("volumes", [])
        if not volume.startswith(".")
    }
    assert used <= set(COMPOSE["volumes"])


def test_the_page_waits_for_a_healthy_api() -> None:
    assert SERVICES["user_server"]["depends_on"]["ml_server"]["condition"] == "service_healthy"


def test_mounted_host_paths_exist() -> None:
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            if volume.startswith("./"):
                assert Path(ROOT, volume.split(":")[0]).exists(), volume
