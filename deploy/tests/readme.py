"""Reading README.md: its fenced blocks, and the curl examples paired with the answers they promise."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from scripts.services import ROOT

README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
EXAMPLE_BASE = "http://127.0.0.1:8001/"


@dataclass(frozen=True)
class CurlExample:
    command: str
    expected: Any

    @property
    def name(self) -> str:
        path = re.search(re.escape(EXAMPLE_BASE) + r"(\S*)", self.command)
        return path.group(1) if path else self.command.split()[0]


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    return FENCE.findall(text)


def curl_examples(text: str) -> list[CurlExample]:
    """Every ```bash block that calls the API, with the ```json block right after it (None if absent)."""
    blocks = fenced_blocks(text)
    examples = []
    for index, (language, body) in enumerate(blocks):
        if language == "bash" and body.lstrip().startswith("curl ") and EXAMPLE_BASE in body:
            after = blocks[index + 1] if index + 1 < len(blocks) else ("", "")
            examples.append(CurlExample(body.strip(), json.loads(after[1]) if after[0] == "json" else None))
    return examples


def matches(expected: Any, actual: Any) -> bool:
    """The answer has every field shown; numbers shown as floats are checked for type only."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and matches(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(matches, expected, actual))
    if isinstance(expected, float):
        return isinstance(actual, int | float) and not isinstance(actual, bool)
    return type(expected) is type(actual) and expected == actual
