"""A small on-disk cache of what is slow to derive at start-up and never changes for a given install: genai-prices'
per-token rates for a model, and compiled templates. Entries are keyed by the versions they derive from, so an
upgrade simply misses; the directory is safe to delete. `ADVISOR_CACHE_DIR` moves it; `ADVISOR_CACHE_DIR=off`
turns it off. A cache that cannot be read or written is skipped: it only ever saves time, never changes a result.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any


@cache
def directory() -> Path | None:
    configured = os.environ.get("ADVISOR_CACHE_DIR")
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "advisor"


def load(name: str) -> dict[str, Any]:
    """The cached JSON object `name`, or {} when there is none (or it is unreadable: it is rebuilt)."""
    d = directory()
    if d is None:
        return {}
    try:
        data = json.loads((d / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save(name: str, data: dict[str, Any]) -> None:
    """Replace `name` atomically (concurrent writers each leave a whole file); skipped if the disk refuses."""
    d = directory()
    if d is None:
        return
    tmp = None
    try:
        d.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=d, prefix=f".{name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, d / name)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def templates(settings: str) -> Path | None:
    """Where Jinja2 keeps compiled templates. Jinja2 checks each template's source checksum, not the environment
    that compiled it, so the directory is keyed by `settings` (everything that shapes the generated code)."""
    d = directory()
    if d is None:
        return None
    key = hashlib.sha256(settings.encode()).hexdigest()[:16]
    try:
        (d / "templates" / key).mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return d / "templates" / key
