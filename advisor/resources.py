"""Where the shipped rules, templates and examples are: inside the installed package, or beside it in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).parent


def shipped(name: str) -> Path:
    """`rules`, `templates` or `examples`: the wheel puts them inside the package; a checkout keeps them at the top."""
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name
