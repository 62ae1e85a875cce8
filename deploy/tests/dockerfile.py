"""Reading a Dockerfile without a Docker engine: its instructions, what it copies from the build
context, and the commands it runs."""

from __future__ import annotations

import ast
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath


@dataclass
class Dockerfile:
    """The instructions of one Dockerfile, with what the image's paths correspond to in the repo."""

    path: Path
    context: Path
    instructions: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path, *, context: Path) -> Dockerfile:
        text = re.sub(r"\\\n", " ", path.read_text())
        lines = [line.strip() for line in text.splitlines()]
        instructions = [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]
        return cls(path, context, [(keyword.upper(), rest) for keyword, rest in instructions])

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
        """The build context's file an image path was copied from, if any."""
        for source, destination in self.copies():
            if image_path == destination:
                return self.context / source
            if source.endswith("/") and destination in image_path.parents:
                return self.context / source / image_path.relative_to(destination)
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
