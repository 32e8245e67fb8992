"""advisor: decide how to build an AI feature, with sourced costs and cited rules.

The public API is small and importable from here; the modules behind it load on first use, so `advisor --version`
and the light commands stay fast::

    import advisor
    decision = advisor.decide("examples/customer-chatbot.json")   # or a dict, or an advisor.Profile
    print(decision.recommendation.id)

Errors a user can cause are `advisor.AdvisorError` subclasses (see `advisor.errors`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "decide": "engine", "explain": "engine", "Decision": "engine", "memo": "report",
    "what_would_change": "sensitivity", "analyse": "sensitivity", "summarize": "batch",
    "Profile": "schema", "load_profile": "io",
    "load_rules": "rules", "load_catalog": "catalog", "price": "costs",
    "AdvisorError": "errors", "InputError": "errors", "UnknownIdError": "errors", "CatalogError": "errors",
    "RuleError": "errors", "TemplateError": "errors",
}
__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:
    from .catalog import load_catalog
    from .costs import price
    from .engine import Decision, decide, explain
    from .errors import AdvisorError, CatalogError, InputError, RuleError, TemplateError, UnknownIdError
    from .io import load_profile
    from .report import memo
    from .rules import load_rules
    from .batch import summarize
    from .sensitivity import analyse, what_would_change
    from .schema import Profile


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'advisor' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
