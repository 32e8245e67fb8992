"""advisor: decide how to build an AI feature, with sourced costs and cited rules.

The public API is small and importable from here; the modules behind it load on first use, so `advisor --version`
and the light commands stay fast::

    import advisor
    ev = advisor.Advisor().evaluate("examples/customer-chatbot.json")   # or a dict, or an advisor.Profile
    ev.decision.recommendation.id
    advisor.decide("examples/customer-chatbot.json")                   # the same, through the default Advisor

Errors a user can cause are `advisor.AdvisorError` subclasses (see `advisor.errors`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Advisor": "evaluation", "Evaluation": "evaluation", "evaluate": "evaluation", "decide": "evaluation",
    "costs": "evaluation", "explain": "evaluation", "summarize": "evaluation", "sensitivity": "evaluation",
    "memo": "evaluation", "Decision": "decision", "Profile": "schema", "load_profile": "io",
    "load_rules": "rules", "load_catalog": "catalog",
    "AdvisorError": "errors", "InputError": "errors", "UnknownIdError": "errors", "CatalogError": "errors",
    "RuleError": "errors", "TemplateError": "errors",
}
__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:
    from .catalog import load_catalog
    from .decision import Decision
    from .errors import AdvisorError, CatalogError, InputError, RuleError, TemplateError, UnknownIdError
    from .evaluation import Advisor, Evaluation, costs, decide, evaluate, explain, memo, sensitivity, summarize
    from .io import load_profile
    from .rules import load_rules
    from .schema import Profile


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'advisor' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
