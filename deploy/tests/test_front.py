"""The nginx front's configuration as `make run` writes it: complete, accepted by nginx itself, every
path inside its runtime folder, and the limits it was given."""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import threading
import urllib.request
from pathlib import Path

import pytest

from scripts import front
from scripts.front import (
    INCLUDES,
    LUA_PACKAGE,
    NGINX_DIR,
    TEMP_KINDS,
    TEMPLATE,
    FrontLimits,
    front_command,
    front_config,
    nginx_binary,
    nginx_modules,
    prepare_front,
    render_template,
    running_front,
)
from scripts.services import services_from_env
from testsupport.servers import free_port

needs_nginx = pytest.mark.skipif(front.find_nginx() is None, reason="nginx is not installed")
SERVICES = services_from_env({"ML_SERVER_PORT": "18001", "USER_SERVER_PORT": "18000"})
MODULES = [Path("/modules/ndk_http_module.so"), Path("/modules/ngx_http_lua_module.so")]


def test_every_placeholder_must_be_given() -> None:
    assert render_template("a ${ONE} $remote_addr", {"ONE": "1"}) == "a 1 $remote_addr"
    with pytest.raises(ValueError, match="TWO"):
        render_template("${ONE} ${TWO}", {"ONE": "1"})


def test_limits_come_from_the_environment_with_safe_defaults() -> None:
    assert FrontLimits.from_env({}) == FrontLimits()
    limits = FrontLimits.from_env({"FRONT_HEADER_TIMEOUT": "3", "FRONT_CONNECTIONS_PER_CLIENT": "64"})
    assert (limits.header_timeout_s, limits.connections_per_client, limits.body_timeout_s) == (3, 64, 5)
    assert FrontLimits.from_env({"FRONT_BODY_DEADLINE": "12"}).body_deadline_s == 12


def test_the_default_body_deadline_cuts_the_issues_slow_upload_but_not_the_largest_body_on_a_slow_uplink() -> None:
    """1 MB at 10 KB/s takes 100 s; 5 MB over a 2 Mbit/s mobile uplink, 20 s."""
    deadline = FrontLimits().body_deadline_s
    assert deadline < 1024 * 1024 / (10 * 1024)
    assert deadline > 5 * 1024 * 1024 * 8 / 2_000_000


def test_the_config_listens_on_the_public_ports_and_proxies_to_unix_sockets(tmp_path: Path) -> None:
    limits = FrontLimits(
        header_timeout_s=3, body_timeout_s=4, body_deadline_s=11, keepalive_timeout_s=9, connections_per_client=7
    )
    config = front_config(tmp_path, services=SERVICES, host="127.0.0.1", limits=limits, modules=MODULES)
    assert "listen 127.0.0.1:18001;" in config and "listen 127.0.0.1:18000;" in config
    assert f"server unix:{tmp_path / 'ml_server.sock'};" in config
    for line in ("client_header_timeout 3s;", "client_body_timeout 4s;", "limit_conn per_client 7;"):
        assert line in config
    assert "client_max_body_size 5m;" in config and "proxy_request_buffering on;" in config
    assert 'require("body_deadline").read_body(11, 4)' in config
    assert "daemon off;" in config and f"pid {tmp_path / 'nginx.pid'};" in config
    ipv6 = front_config(tmp_path, services=SERVICES, host="::1", limits=limits, modules=MODULES)
    assert "listen [::1]:18001;" in ipv6


def test_the_config_loads_the_ndk_before_the_lua_module_first_thing(tmp_path: Path) -> None:
    config = front_config(tmp_path, services=SERVICES, host="127.0.0.1", limits=FrontLimits(), modules=MODULES)
    directives = [line for line in config.splitlines() if line and not line.startswith("#")]
    assert directives[:2] == [f"load_module {module};" for module in MODULES]


def test_a_missing_lua_module_names_the_package_to_install(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(front, "MODULE_DIRS", (str(tmp_path),))
    with pytest.raises(SystemExit, match=LUA_PACKAGE):
        nginx_modules("/bin/true")  # an "nginx" that names no modules folder


@needs_nginx
def test_debians_lua_module_is_found() -> None:
    assert [module.name for module in nginx_modules(nginx_binary())] == list(front.MODULES)


@needs_nginx
def test_nginx_accepts_the_config_without_root_paths(tmp_path: Path) -> None:
    config = prepare_front(tmp_path / "runtime", services=SERVICES, host="127.0.0.1", env={})
    result = subprocess.run([*front_command(config), "-t"], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    assert "[error]" not in result.stderr and "[warn]" not in result.stderr  # e.g. resty.core not found
    assert not any(word in config.read_text() for word in ("/var/", "/etc/", "/run/"))


@needs_nginx
def test_nginx_accepts_the_front_images_config(tmp_path: Path) -> None:
    """What the image's entrypoint runs, with its /etc/nginx paths moved into `tmp_path` (no Docker here)."""
    image_config = (NGINX_DIR / "nginx.conf").read_text()
    for folder in ("conf.d", "front"):
        (tmp_path / folder).mkdir()
    # nginx -t creates its temporary folders: here, not in the image's /var/lib/nginx.
    temp_paths = "".join(f"{kind}_temp_path {tmp_path / kind};\n" for kind in TEMP_KINDS)
    for image_path, here in (("/etc/nginx/conf.d", str(tmp_path / "conf.d")), ("/tmp/nginx.pid", "nginx.pid")):
        image_config = image_config.replace(image_path, here)
    (tmp_path / "nginx.conf").write_text(image_config.replace("http {\n", "http {\n" + temp_paths, 1))
    for name in INCLUDES:
        shutil.copyfile(NGINX_DIR / name, tmp_path / "front" / name)
    values = FrontLimits().template_values() | {
        "ML_SERVER_LISTEN": "127.0.0.1:18001",
        "USER_SERVER_LISTEN": "127.0.0.1:18000",
        "ML_SERVER_UPSTREAM": "127.0.0.1:18101",  # compose names its services; nginx -t resolves names
        "USER_SERVER_UPSTREAM": "127.0.0.1:18100",
    }
    (tmp_path / "conf.d" / "front.conf").write_text(render_template(TEMPLATE.read_text(), values))
    command = [nginx_binary(), "-t", "-e", "stderr", "-p", f"{tmp_path}/", "-c", str(tmp_path / "nginx.conf")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert "[error]" not in result.stderr and "[warn]" not in result.stderr


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"status": "ok", "forwarded_for": self.headers["X-Forwarded-For"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@needs_nginx
def test_the_front_alone_passes_requests_to_a_server_started_elsewhere(tmp_path: Path) -> None:
    """How benchmarks put the front in their path (`scripts.front.running_front`)."""
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    address = f"127.0.0.1:{upstream.server_address[1]}"
    services = services_from_env({"ML_SERVER_PORT": str(free_port()), "USER_SERVER_PORT": str(free_port())})
    try:
        upstreams = {service.name: address for service in services}
        with running_front(tmp_path / "front", services=services, upstreams=upstreams, env={}) as base:
            request = urllib.request.Request(base + "health", headers={"X-Forwarded-For": "203.0.113.1"})
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.headers["Server"] == "nginx"
                assert json.loads(response.read()) == {"status": "ok", "forwarded_for": "127.0.0.1"}
        with pytest.raises(OSError):
            urllib.request.urlopen(base + "health", timeout=5)
    finally:
        upstream.shutdown()
