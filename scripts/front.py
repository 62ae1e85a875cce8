"""The public entry of `make run`: Debian's nginx in front of both gunicorn services.

gunicorn's threaded workers give a connection a thread as soon as it is readable, and the thread then
waits for the rest of the request: a few clients that send half a request hold every thread. nginx
reads requests whole, with deadlines and per-client limits, on events; gunicorn then only ever sees
complete requests, from nginx, on unix sockets in a private runtime folder. nginx itself bounds a
body's pauses only, so Debian's Lua module reads bodies against a deadline for the whole body
(`deploy/nginx/body_deadline.lua`). The limits live in
`deploy/nginx/front.conf.template`, which docker-compose uses too.

nginx runs unprivileged in the foreground (`daemon off`) with every path it writes inside the
runtime folder, so it needs no system configuration and no root.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.services import ROOT, Service, socket_address, stop_group, wait_until_answers

NGINX_DIR = ROOT / "deploy" / "nginx"
TEMPLATE = NGINX_DIR / "front.conf.template"
# Included by the template as front/<name> (relative to nginx.conf) and loaded as Lua from $prefix/front/.
INCLUDES = ("json_errors.conf", "body_deadline.lua")
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/bin/nginx")
# The Lua module (and the NDK it needs, loaded first) reads request bodies against a whole-body deadline.
LUA_PACKAGE = "libnginx-mod-http-lua"
MODULES = ("ndk_http_module.so", "ngx_http_lua_module.so")
MODULE_DIRS = ("/usr/lib/nginx/modules", "/usr/share/nginx/modules", "/usr/lib64/nginx/modules")
MAX_OPEN_FILES = 8192
TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")  # nginx creates a folder for each at start


@dataclass(frozen=True)
class FrontLimits:
    """What a client may hold: read from FRONT_* environment variables, safe defaults otherwise."""

    header_timeout_s: int = 5
    body_timeout_s: int = 5
    body_deadline_s: int = 30
    keepalive_timeout_s: int = 15
    connections_per_client: int = 16

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> FrontLimits:
        return cls(
            header_timeout_s=int(env.get("FRONT_HEADER_TIMEOUT", cls.header_timeout_s)),
            body_timeout_s=int(env.get("FRONT_BODY_TIMEOUT", cls.body_timeout_s)),
            body_deadline_s=int(env.get("FRONT_BODY_DEADLINE", cls.body_deadline_s)),
            keepalive_timeout_s=int(env.get("FRONT_KEEPALIVE_TIMEOUT", cls.keepalive_timeout_s)),
            connections_per_client=int(env.get("FRONT_CONNECTIONS_PER_CLIENT", cls.connections_per_client)),
        )

    def template_values(self) -> dict[str, str]:
        return {
            "FRONT_HEADER_TIMEOUT": str(self.header_timeout_s),
            "FRONT_BODY_TIMEOUT": str(self.body_timeout_s),
            "FRONT_BODY_DEADLINE": str(self.body_deadline_s),
            "FRONT_KEEPALIVE_TIMEOUT": str(self.keepalive_timeout_s),
            "FRONT_CONNECTIONS_PER_CLIENT": str(self.connections_per_client),
        }


def find_nginx() -> str | None:
    """Debian's nginx (installed by scripts/system_deps.sh), or None; /usr/sbin is often not on a user's PATH."""
    return shutil.which("nginx") or next((path for path in NGINX_CANDIDATES if os.access(path, os.X_OK)), None)


def nginx_binary() -> str:
    found = find_nginx()
    if found is None:
        raise SystemExit("nginx is not installed: run `make system-deps` (or apt-get install nginx)")
    return found


def nginx_modules(nginx: str) -> list[Path]:
    """The NDK and Lua modules of Debian's libnginx-mod-http-lua, from the folder this nginx was built
    to load modules from (`nginx -V`) or the usual ones."""
    built = subprocess.run([nginx, "-V"], capture_output=True, text=True, check=False).stderr
    configured = re.findall(r"--modules-path=(\S+)", built)
    for folder in map(Path, [*configured, *MODULE_DIRS]):
        if all((folder / module).is_file() for module in MODULES):
            return [folder / module for module in MODULES]
    raise SystemExit(f"nginx's Lua module is not installed: run `make system-deps` (or apt-get install {LUA_PACKAGE})")


def upstream_socket(runtime: Path, service: Service) -> Path:
    """Where the service's gunicorn listens behind the front: a unix socket only this machine reaches."""
    return runtime / f"{service.name}.sock"


def render_template(template: str, values: Mapping[str, str]) -> str:
    """Fill `${NAME}` as envsubst would; nginx's own `$variables` stay. A name left unfilled is an error."""
    missing = sorted(set(PLACEHOLDER.findall(template)) - set(values))
    if missing:
        raise ValueError(f"no value for {', '.join(missing)} in {TEMPLATE.name}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def front_config(
    runtime: Path,
    *,
    services: Sequence[Service],
    host: str,
    limits: FrontLimits,
    modules: Sequence[Path],
    upstreams: Mapping[str, str] | None = None,
) -> str:
    """The whole nginx.conf: the dynamic `modules` to load, process settings with every path inside
    `runtime`, then the shared template. Each service is served on host:its port and passed on to its
    upstream (`unix:<path>` or host:port; by default its socket in `runtime`)."""
    ml_server, user_server = services
    upstreams = upstreams or {service.name: f"unix:{upstream_socket(runtime, service)}" for service in services}
    http = render_template(
        TEMPLATE.read_text(),
        {
            **limits.template_values(),
            "ML_SERVER_LISTEN": socket_address(host, ml_server.port),
            "USER_SERVER_LISTEN": socket_address(host, user_server.port),
            "ML_SERVER_UPSTREAM": upstreams[ml_server.name],
            "USER_SERVER_UPSTREAM": upstreams[user_server.name],
        },
    )
    temp_paths = "\n".join(f"    {kind}_temp_path {runtime / 'temp' / kind};" for kind in TEMP_KINDS)
    # Started as root (CI, containers), nginx's workers drop to an unprivileged user: name one Debian has.
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    # Each proxied request holds two descriptors (client and gunicorn); the worker may raise its soft
    # limit up to the hard one, so connections are capped by what it can really open.
    files = min(MAX_OPEN_FILES, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    loads = "".join(f"load_module {module};\n" for module in modules)
    return f"""# Generated by scripts/front.py for `make run`; edit deploy/nginx/front.conf.template instead.
{loads}{user}daemon off;
master_process on;
worker_processes 1;  # event-driven: one process holds thousands of idle connections
worker_rlimit_nofile {files};
pid {runtime / "nginx.pid"};
error_log stderr warn;

events {{
    worker_connections {files // 2};
}}

http {{
    default_type application/octet-stream;
{temp_paths}

{http}
}}
"""


def prepare_front(
    runtime: Path,
    *,
    services: Sequence[Service],
    host: str,
    env: Mapping[str, str],
    upstreams: Mapping[str, str] | None = None,
) -> Path:
    """Write nginx.conf and its includes into `runtime`; returns the config's path. The folder is readable
    by all (nothing in it is secret), so nginx's workers reach the sockets even when started by root."""
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o755)
    (runtime / "temp").mkdir(exist_ok=True)
    (runtime / "front").mkdir(exist_ok=True)
    for name in INCLUDES:
        shutil.copyfile(NGINX_DIR / name, runtime / "front" / name)
    config = runtime / "nginx.conf"
    limits = FrontLimits.from_env(env)
    modules = nginx_modules(nginx_binary())
    config.write_text(
        front_config(runtime, services=services, host=host, limits=limits, modules=modules, upstreams=upstreams)
    )
    return config


def front_command(config: Path) -> list[str]:
    """nginx with `config` and its runtime folder as prefix; `-e stderr` before the config is read,
    so nginx never opens the system's log file."""
    return [nginx_binary(), "-e", "stderr", "-p", str(config.parent), "-c", str(config)]


@contextlib.contextmanager
def running_front(
    runtime: Path,
    *,
    services: Sequence[Service],
    upstreams: Mapping[str, str],
    env: Mapping[str, str],
    timeout: float = 30.0,
) -> Iterator[str]:
    """The front alone on 127.0.0.1, before servers started elsewhere (benchmarks put it in their
    path this way); yields the ml_server's public URL and stops nginx when the block ends."""
    config = prepare_front(runtime, services=services, host="127.0.0.1", env=env, upstreams=upstreams)
    process = subprocess.Popen(front_command(config), cwd=runtime, stdin=subprocess.DEVNULL, start_new_session=True)
    base = services[0].url("127.0.0.1")
    try:
        wait_until_answers(base + "health", process, timeout=timeout)
        yield base
    finally:
        stop_group(process, grace_s=10)
