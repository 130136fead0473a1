"""A small Dockerfile reader for tests: instructions grouped by build stage.

Enough for docker/Dockerfile: comment lines (also inside continuations) are dropped,
backslash continuations are joined, and each instruction is kept with its raw argument text.
JSON (exec) forms are decoded by `exec_form()`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, CMD, ...
    text: str  # the rest of the line, continuations joined with single spaces


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        found = self.all(keyword)
        assert found, f"stage {self.name or self.base} has no {keyword}"
        return found[-1]


def read_stages(path: Path) -> list[Stage]:
    """The build stages of `path`, in order; instructions before the first FROM are dropped (ARG)."""
    stages: list[Stage] = []
    for instruction in _instructions(path.read_text()):
        if instruction.keyword == "FROM":
            words = instruction.text.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif stages:
            stages[-1].instructions.append(instruction)
    return stages


def exec_form(instruction: Instruction, prefix: str = "") -> list[str]:
    """The JSON array of an exec-form ENTRYPOINT/CMD (after `prefix`, e.g. HEALTHCHECK's options)."""
    text = instruction.text
    if prefix:
        assert prefix in text, f"{prefix!r} not in {text!r}"
        text = text.split(prefix, 1)[1]
    value = json.loads(text)
    assert isinstance(value, list), text
    assert all(isinstance(item, str) for item in value), text
    return [str(item) for item in value]


def _instructions(source: str) -> list[Instruction]:
    out: list[Instruction] = []
    pending: list[str] = []
    for raw in source.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        pending.append(line)
        keyword, _, rest = " ".join(pending).partition(" ")
        out.append(Instruction(keyword.upper(), rest.strip()))
        pending = []
    assert not pending, f"unterminated continuation: {pending}"
    return out
