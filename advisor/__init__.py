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
    from .catalog import load_catalog as load_catalog
    from .decision import Decision as Decision
    from .errors import AdvisorError as AdvisorError
    from .errors import CatalogError as CatalogError
    from .errors import InputError as InputError
    from .errors import RuleError as RuleError
    from .errors import TemplateError as TemplateError
    from .errors import UnknownIdError as UnknownIdError
    from .evaluation import Advisor as Advisor
    from .evaluation import Evaluation as Evaluation
    from .evaluation import costs as costs
    from .evaluation import decide as decide
    from .evaluation import evaluate as evaluate
    from .evaluation import explain as explain
    from .evaluation import memo as memo
    from .evaluation import sensitivity as sensitivity
    from .evaluation import summarize as summarize
    from .io import load_profile as load_profile
    from .rules import load_rules as load_rules
    from .schema import Profile as Profile


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'advisor' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
