"""The two Dockerfiles (no Docker engine runs here): every file they COPY and every command they
run exists in the repository, each image holds only what its service imports, runs as a non-root
user and checks `/health`."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pytest

from scripts.services import ROOT

SERVICES = {"ml_server": 8001, "user_server": 8000}
BASE_IMAGE = "python:3.11-slim"
# Programs the base image brings; anything else a Dockerfile runs must be installed by it.
BASE_PROGRAMS = {"python", "pip", "sh", "useradd", "mkdir", "chown", "chmod", "sleep"}
# Parts of the repository an image must not carry.
PRIVATE = [".secret_key", ".venv", "data", ".git"]


@dataclass
class Dockerfile:
    """The instructions of one Dockerfile, with what the image's paths correspond to in the repo."""

    path: Path
    instructions: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> Dockerfile:
        text = re.sub(r"\\\n", " ", path.read_text())
        lines = [line.strip() for line in text.splitlines()]
        instructions = [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]
        return cls(path, [(keyword.upper(), rest) for keyword, rest in instructions])

    def args(self, keyword: str) -> list[str]:
        return [rest for key, rest in self.instructions if key == keyword]

    def copies(self) -> list[tuple[str, PurePosixPath]]:
        """(source in the build context, absolute destination in the image) per COPY."""
        result, workdir = [], PurePosixPath("/")
        for keyword, rest in self.instructions:
            if keyword == "WORKDIR":
                workdir = workdir / rest
            elif keyword == "COPY":
                source, destination = shlex.split(rest)
                into_folder = destination.endswith("/") and not source.endswith("/")
                result.append((source, workdir / destination / (PurePosixPath(source).name if into_folder else "")))
        return result

    def repo_path(self, image_path: PurePosixPath) -> Path | None:
        """The repository file an image path was copied from, if any."""
        for source, destination in self.copies():
            if image_path == destination:
                return ROOT / source
            if source.endswith("/") and destination in image_path.parents:
                return ROOT / source / image_path.relative_to(destination)
        return None

    def commands(self) -> list[tuple[PurePosixPath, list[str]]]:
        """(working directory, argv) of every command a RUN, CMD or HEALTHCHECK runs."""
        result, workdir = [], PurePosixPath("/")
        for keyword, rest in self.instructions:
            if keyword == "WORKDIR":
                workdir = workdir / rest
            elif keyword in {"RUN", "CMD", "HEALTHCHECK"}:
                shell = rest.split(" CMD ", 1)[1] if keyword == "HEALTHCHECK" else rest
                if shell.startswith("["):
                    argv = ast.literal_eval(shell)
                    shell = argv[2] if argv[:2] == ["sh", "-c"] else shlex.join(argv)
                result.extend((workdir, argv) for argv in shell_commands(shell))
        return result


def shell_commands(script: str) -> list[list[str]]:
    """The simple commands of a shell line, without `VAR=value` prefixes or `exec`."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in {"&&", "||", ";", "|"}:
            commands.append([])
        elif not (commands[-1] == [] and (token == "exec" or re.fullmatch(r"[A-Z_]+=\S*", token))):
            commands[-1].append(token)
    return [command for command in commands if command]


def dockerfile(service: str) -> Dockerfile:
    return Dockerfile.read(ROOT / service / "Dockerfile")


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
    modules = set()
    for path in folder.rglob("*.py"):
        parts = path.relative_to(folder).parts
        if any(part == "tests" or part.endswith("_tests") for part in parts) or path.name in TEST_ONLY_FILES:
            continue
        if path.is_relative_to(ROOT) and dockerignored(path.relative_to(ROOT).as_posix()):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


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
