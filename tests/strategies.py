"""Hypothesis strategies generated from the profile schema itself: every section, field, enum, bound and optional
comes from the pydantic models, so a new field is fuzzed without touching the tests."""

from __future__ import annotations

import types
import typing
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel

from advisor.catalog import load_catalog
from advisor.schema import Profile, limits

# Ids that must name something real to get past validation into the engine; anything else is an error path,
# exercised by the fuzz tests.
_IDS = {
    "api_model": ["gpt-4.1-mini", "gpt-4.1", "gpt-4o", "claude-sonnet-4-5", "gemini-2.5-pro"],
    "api_model_high_accuracy": ["gpt-4.1", "claude-sonnet-4-5", "gemini-2.5-pro"],
}


def _number(base: type, info) -> st.SearchStrategy:
    lo, hi, strict = limits(info)
    lo, hi = max(lo, -1e15), min(hi, 1e15)
    if base is int:
        return st.integers(int(lo) + (1 if strict else 0), int(hi))
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, exclude_min=strict)


def field_strategy(name: str, annotation: Any, info) -> st.SearchStrategy:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return field_strategy(name, typing.get_args(annotation)[0], info)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        inner = field_strategy(name, options[0], info)
        return st.none() | inner if type(None) in typing.get_args(annotation) else inner
    if origin is typing.Literal:
        return st.sampled_from(typing.get_args(annotation))
    if origin is list:
        (item,) = typing.get_args(annotation)
        if isinstance(item, type) and issubclass(item, BaseModel):
            return st.lists(model_strategy(item), max_size=3)
        return st.lists(st.text(min_size=1, max_size=20), max_size=3)
    if annotation is bool:
        return st.booleans()
    if annotation in (int, float):
        return _number(annotation, info)
    if annotation is str:
        if name in _IDS:
            return st.sampled_from(_IDS[name])
        if name == "gpu":
            return st.sampled_from(sorted(load_catalog().gpus))
        if name in ("fine_tune_api_model", "fine_tune_api_model_high_accuracy"):
            return st.sampled_from(sorted(load_catalog().fine_tune_api))
        return st.text(min_size=1, max_size=40)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_strategy(annotation)
    raise TypeError(f"no strategy for {name}: {annotation!r}")


def model_strategy(model: type[BaseModel], *, sparse: bool = False) -> st.SearchStrategy:
    """A dict valid for `model`: required fields always, optional ones (with defaults) sometimes. With `sparse`
    (the assumptions), optional overrides appear rarely, as in real profiles."""
    required, optional = {}, {}
    for name, info in model.model_fields.items():
        strategy = field_strategy(name, info.annotation, info)
        (optional if not info.is_required() else required)[name] = strategy
    if sparse:
        return st.lists(st.sampled_from(sorted(optional)), max_size=4, unique=True).flatmap(
            lambda keys: st.fixed_dictionaries({**required, **{k: optional[k] for k in keys}}))
    return st.fixed_dictionaries(required, optional=optional)


def profiles() -> st.SearchStrategy[dict]:
    """Profile dicts drawn from the schema (the uncertainty section is exercised by the sensitivity tests)."""
    sections = {}
    for name, info in Profile.model_fields.items():
        if name == "schema_version":
            sections[name] = st.just(1)
        elif name == "assumptions":
            sections[name] = model_strategy(info.annotation, sparse=True)
        elif name != "uncertainty":
            sections[name] = model_strategy(info.annotation)
    return st.fixed_dictionaries(sections).map(_consistent)


def _consistent(profile: dict) -> dict:
    """Cross-field rules the per-field strategies cannot know: the cached prefix is part of the input."""
    usage = profile["usage"]
    if usage.get("cached_input_tokens") is not None:
        usage["cached_input_tokens"] = min(usage["cached_input_tokens"], usage["input_tokens"])
    return profile


def json_values() -> st.SearchStrategy[Any]:
    """Arbitrary JSON documents."""
    leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=20)
