"""The shipped example profiles (`examples/*.json`), drawn from the seeds' scenarios."""

from __future__ import annotations

import json
from pathlib import Path

from .errors import UnknownIdError, did_you_mean
from .resources import shipped


def _files() -> dict[str, Path]:
    return {p.stem: p for p in sorted(shipped("examples").glob("*.json"))}


def listing() -> list[tuple[str, str]]:
    """(name, one-line description) of every example."""
    out = []
    for name, path in _files().items():
        project = json.loads(path.read_text(encoding="utf-8"))["project"]
        out.append((name, project.get("description") or project["name"]))
    return out


def path(name: str) -> Path:
    files = _files()
    if name not in files:
        raise UnknownIdError(f"unknown example {name!r}{did_you_mean(name, files)}; run `advisor example` to list them")
    return files[name]


def get(name: str) -> str:
    return path(name).read_text(encoding="utf-8")
