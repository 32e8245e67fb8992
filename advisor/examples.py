"""The shipped example profiles (`examples/*.json`), drawn from the seeds' scenarios."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def generate(count: int, seed: int = 0) -> list[dict[str, Any]]:
    """`count` valid synthetic profiles (as JSON-ready dicts) for benchmarks and tests: each shipped example with
    its numbers scaled ×0.1–×10 and its choices redrawn from the schema's own enums, reproducibly from `seed`."""
    import random
    import typing

    from .schema import NOT_UNCERTAIN, Profile, numeric_fields

    rng = random.Random(seed)
    bases = [json.loads(p.read_text(encoding="utf-8")) for p in _files().values()]
    choices = {}
    for section, info in Profile.model_fields.items():
        sub = info.annotation
        for name, f in getattr(sub, "model_fields", {}).items():
            if typing.get_origin(f.annotation) is typing.Literal:
                choices[(section, name)] = typing.get_args(f.annotation)
            elif f.annotation is bool:
                choices[(section, name)] = (False, True)
    numbers = [p for p in numeric_fields() if not p.startswith("assumptions.") and p not in NOT_UNCERTAIN]
    out: list[dict[str, Any]] = []
    while len(out) < count:
        d = json.loads(json.dumps(rng.choice(bases)))
        for (section, name), values in choices.items():
            if section in d and rng.random() < 0.3:
                d[section][name] = rng.choice(values)
        for path in numbers:
            section, name = path.split(".")
            value = d.get(section, {}).get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and rng.random() < 0.5:
                scaled = value * 10 ** rng.uniform(-1, 1)
                d[section][name] = round(scaled) if numeric_fields()[path][1] else scaled
        try:
            Profile.model_validate(d)
        except ValueError:
            continue  # a draw outside a field's limits (a score above 1, growth above 5): draw again
        out.append(d)
    return out
