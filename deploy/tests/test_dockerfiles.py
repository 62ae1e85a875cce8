"""The Dockerfiles (no Docker engine runs here). The two services': every file they COPY and every
command they run exists in the repository, each image holds only what its service imports, runs as a
non-root user and checks `/health`. The front's: Debian's nginx and Lua module with `make run`'s
template, run unprivileged."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path, PurePosixPath

import pytest

from scripts.front import INCLUDES, MODULES, NGINX_DIR, TEMPLATE
from scripts.services import ROOT

from .dockerfile import Dockerfile

SERVICES = {"ml_server": 8001, "user_server": 8000}
BASE_IMAGE = "python:3.11-slim"
# Programs the base image brings; anything else a Dockerfile runs must be installed by it.
BASE_PROGRAMS = {"python", "pip", "sh", "useradd", "mkdir", "chown", "chmod", "sleep"}
# Parts of the repository an image must not carry.
PRIVATE = [".secret_key", ".venv", "data", ".git"]


def dockerfile(service: str) -> Dockerfile:
    return Dockerfile.read(ROOT / service / "Dockerfile", context=ROOT)


def requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(normalize(re.split(r"[\[=<>!~;\s]", line, maxsplit=1)[0]))
    return names


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_requirements(image: Dockerfile) -> set[str]:
    names = set()
    for workdir, argv in image.commands():
        if argv[:2] == ["pip", "install"] and "-r" in argv:
            copied = image.repo_path(workdir / argv[argv.index("-r") + 1])
            assert copied is not None and copied.is_file(), f"{image.path}: pip installs a file it did not COPY"
            names |= requirement_names(copied)
    return names


TEST_ONLY_FILES = {"conftest.py", "settings_test.py"}


def imported_modules(folder: Path) -> set[str]:
    """Top-level modules that the service's code (tests and files kept out of the image excluded) imports."""
    return {name.split(".")[0] for name in imported_names(folder)}


def imported_names(folder: Path) -> set[str]:
    """Dotted names of the modules that the service's code (tests and files kept out of the image
    excluded) imports, at module level or inside a function."""
    names = set()
    for path in folder.rglob("*.py"):
        parts = path.relative_to(folder).parts
        if any(part == "tests" or part.endswith("_tests") for part in parts) or path.name in TEST_ONLY_FILES:
            continue
        if path.is_relative_to(ROOT) and dockerignored(path.relative_to(ROOT).as_posix()):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
    return names


def dockerignored(relative: str) -> bool:
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [p for p in patterns if p and not p.startswith("#")]
    parts = PurePosixPath(relative).parts
    return any(PurePosixPath(*parts[: i + 1]).match(p) for p in patterns for i in range(len(parts)))


@pytest.mark.parametrize("service", SERVICES)
def test_image_starts_from_slim_python_311(service: str) -> None:
    assert dockerfile(service).args("FROM") == [BASE_IMAGE]


@pytest.mark.parametrize("service", SERVICES)
def test_image_runs_as_a_non_root_user_it_creates(service: str) -> None:
    image = dockerfile(service)
    (user,) = image.args("USER")
    assert user not in {"root", "0"}
    assert any(argv[:1] == ["useradd"] and argv[-1] == user for _, argv in image.commands())
    keywords = [keyword for keyword, _ in image.instructions]
    assert keywords.index("USER") < keywords.index("CMD")


@pytest.mark.parametrize("service", SERVICES)
def test_every_copied_file_exists_and_is_not_docker_ignored(service: str) -> None:
    for source, _ in dockerfile(service).copies():
        assert (ROOT / source).exists(), f"{service}/Dockerfile copies missing {source}"
        assert not dockerignored(source.rstrip("/")), f"{source} is excluded by .dockerignore"


@pytest.mark.parametrize("service", SERVICES)
def test_every_command_and_file_the_image_runs_exists(service: str) -> None:
    image = dockerfile(service)
    installed = installed_requirements(image)
    for workdir, argv in image.commands():
        program = argv[0]
        assert program in BASE_PROGRAMS or normalize(program) in installed, f"{service}: runs unknown {program}"
        for arg in argv[1:]:
            if arg.endswith((".py", ".txt")):
                copied = image.repo_path(workdir / arg)
                assert copied is not None and copied.is_file(), f"{service}: `{' '.join(argv)}` needs {arg}"
            if program == "gunicorn" and re.fullmatch(r"[\w.]+:\w+", arg):  # the WSGI app, config.wsgi:application
                module = arg.split(":")[0].replace(".", "/") + ".py"
                copied = image.repo_path(workdir / module)
                assert copied is not None and copied.is_file(), f"{service}: {arg} is not in the image"


@pytest.mark.parametrize("service", SERVICES)
def test_health_check_calls_health_on_the_exposed_port(service: str) -> None:
    image = dockerfile(service)
    (check,) = image.args("HEALTHCHECK")
    assert "/health" in check
    assert image.args("EXPOSE") == [str(SERVICES[service])]
    assert f"{service.upper()}_PORT={SERVICES[service]}" in " ".join(image.args("ENV"))


@pytest.mark.parametrize("service", SERVICES)
def test_image_installs_every_package_its_code_imports(service: str) -> None:
    image = dockerfile(service)
    installed = installed_requirements(image)
    local = {PurePosixPath(source.rstrip("/")).name.removesuffix(".py") for source, _ in image.copies()} | {
        path.stem if path.is_file() else path.name for path in (ROOT / service).iterdir()
    }
    distributions = importlib.metadata.packages_distributions()
    copied_code = [ROOT / source for source, _ in image.copies() if (ROOT / source).is_dir()]
    for module in set().union(*(imported_modules(folder) for folder in copied_code)):
        if module in sys.stdlib_module_names or module in local:
            continue
        owners = {normalize(name) for name in distributions.get(module, [])}
        assert owners & installed, f"{service} imports {module}, which its image does not install"


def test_page_image_carries_no_tensorflow_and_no_digits_library() -> None:
    image = dockerfile("user_server")
    installed = installed_requirements(image)
    assert not {"tensorflow", "tensorflow-cpu", "keras", "scikit-learn"} & installed
    assert not any(source.startswith("digits") for source, _ in image.copies())
    assert "digits" not in imported_modules(ROOT / "user_server")


# Imported by the image's code only where TensorFlow is installed, which the API image is not.
TENSORFLOW_ONLY = {"digits.engines.tensorflow"}


def test_every_digits_module_the_api_image_imports_is_in_it() -> None:
    """.dockerignore keeps training-only modules out of the image: none of them may be one its code imports."""
    image = dockerfile("ml_server")
    copied_code = [ROOT / source for source, _ in image.copies() if (ROOT / source).is_dir()]
    imported = {name for folder in copied_code for name in imported_names(folder)}
    wanted = {name for name in imported if name.split(".")[0] == "digits"} - TENSORFLOW_ONLY
    for name in sorted(wanted):
        module = ROOT / Path(*name.split("."))
        source = module.with_suffix(".py") if module.with_suffix(".py").is_file() else module / "__init__.py"
        assert source.is_file(), f"{name} is imported but has no source"
        assert not dockerignored(source.relative_to(ROOT).as_posix()), f"{name} is imported but not in the image"


def test_api_image_carries_no_tensorflow_and_no_training_code() -> None:
    image = dockerfile("ml_server")
    assert not {"tensorflow", "tensorflow-cpu", "keras", "h5py"} & installed_requirements(image)
    assert not {"tensorflow", "keras"} & imported_modules(ROOT / "digits")


def test_ml_server_image_bakes_in_the_models_of_the_manifest() -> None:
    image = dockerfile("ml_server")
    assert ("models/", PurePosixPath("/app/models")) in image.copies()
    assert "MODELS_DIR=/app/models" in " ".join(image.args("ENV"))


@pytest.mark.parametrize("private", PRIVATE)
def test_private_and_bulky_files_stay_out_of_the_build_context(private: str) -> None:
    assert dockerignored(private)


@pytest.mark.parametrize("service", SERVICES)
def test_copied_files_are_made_readable_by_the_non_root_user(service: str) -> None:
    # COPY keeps the build machine's modes, and models/manifest.json is written 0600.
    image = dockerfile(service)
    assert any(argv[:3] == ["chmod", "-R", "a+rX"] and argv[3] == "/app" for _, argv in image.commands())
    keywords = [keyword for keyword, _ in image.instructions]
    last_copy = max(i for i, keyword in enumerate(keywords) if keyword == "COPY")
    chmod_run = next(
        i for i, (keyword, rest) in enumerate(image.instructions) if keyword == "RUN" and "chmod -R a+rX /app" in rest
    )
    assert chmod_run > last_copy


# --- the front's image (docker-compose's `front`, built from deploy/nginx) -------------------------

FRONT = Dockerfile.read(NGINX_DIR / "Dockerfile", context=NGINX_DIR)
FRONT_PACKAGES = {"nginx", "libnginx-mod-http-lua", "gettext-base", "curl"}
FRONT_PREFIX = PurePosixPath("/etc/nginx")  # the entrypoint's `nginx -p`: includes and Lua are found from it


def test_front_image_is_debians_nginx_with_its_lua_module() -> None:
    assert FRONT.args("FROM") == ["debian:bookworm-slim"]
    installs = [argv for _, argv in FRONT.commands() if argv[:2] == ["apt-get", "install"]]
    assert installs and {arg for argv in installs for arg in argv[2:]} >= FRONT_PACKAGES


def test_front_image_carries_make_runs_template_and_includes() -> None:
    copies = dict(FRONT.copies())
    for source in copies:
        assert (NGINX_DIR / source).is_file(), source
    assert copies[TEMPLATE.name] == FRONT_PREFIX / "templates" / TEMPLATE.name
    for include in INCLUDES:  # the template's front/<name>, relative to the prefix
        assert copies[include] == FRONT_PREFIX / "front" / include


def test_front_image_loads_the_modules_make_run_loads() -> None:
    loads = re.findall(r"^load_module (\S+);", (NGINX_DIR / "nginx.conf").read_text(), flags=re.MULTILINE)
    assert [PurePosixPath(path).name for path in loads] == list(MODULES)
    assert dict(FRONT.copies())["nginx.conf"] == FRONT_PREFIX / "nginx.conf"


def test_front_image_runs_its_entrypoint_unprivileged() -> None:
    (user,) = FRONT.args("USER")
    assert user not in {"root", "0"}
    keywords = [keyword for keyword, _ in FRONT.instructions]
    assert keywords.index("USER") < keywords.index("CMD")
    ((_, argv),) = [(workdir, argv) for workdir, argv in FRONT.commands() if argv[0] == "front-entrypoint"]
    copies = {destination: source for source, destination in FRONT.copies()}
    entrypoint = NGINX_DIR / copies[PurePosixPath("/usr/local/bin") / argv[0]]
    script = entrypoint.read_text()
    assert str(FRONT_PREFIX / "templates" / TEMPLATE.name) in script
    assert f"nginx -p {FRONT_PREFIX}/" in script


def test_front_image_checks_health_and_exposes_both_ports() -> None:
    (check,) = FRONT.args("HEALTHCHECK")
    assert "http://127.0.0.1:8001/health" in check
    assert FRONT.args("EXPOSE") == ["8000 8001"]
