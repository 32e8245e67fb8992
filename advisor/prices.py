"""Hosted-API prices, through genai-prices (the only module that imports it).

Prices are looked up at the catalog's fixed `price_timestamp`, so a decision never changes with the wall clock.
genai-prices' online updater (`UpdatePrices`) is never started: the pinned package's bundled snapshot is the price
list. `price_usage` asks genai-prices about one call (the `estimate api` verb); the cost model uses `call_usd`, the
same prices as exact per-tier rates read from genai-prices once per model and kept in the start-up cache.
"""

from __future__ import annotations

import bisect
from datetime import datetime
from decimal import Decimal
from typing import Any
from functools import cache, lru_cache

from .errors import UnknownIdError, did_you_mean


def _find(model: str):
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    try:
        return snapshot, *snapshot.find_provider_model(model, None, None, None)
    except LookupError:
        known = sorted({m.id for p in snapshot.providers for m in p.models})
        raise UnknownIdError(
            f"unknown API model {model!r}{did_you_mean(model, known)}: genai-prices has no price for it"
        ) from None


@lru_cache(maxsize=4096)
def price_usage(model: str, input_tokens: int, output_tokens: int, cached_tokens: int, at: datetime) -> float:
    """USD for one usage: `input_tokens` includes `cached_tokens` (read from the prompt cache)."""
    return float(_exact(model, input_tokens, output_tokens, cached_tokens, at))


def _exact(model: str, input_tokens: int, output_tokens: int, cached_tokens: int, at: datetime) -> Decimal:
    from genai_prices import Usage

    _, provider, info = _find(model)
    usage = Usage(input_tokens=input_tokens, cache_read_tokens=cached_tokens, output_tokens=output_tokens)
    return info.calc_price(usage, provider, genai_request_timestamp=at).total_price


def call_usd(model: str, input_tokens, output_tokens, cached_tokens, at: datetime):
    """The cost model's price of one call — numbers, or numpy arrays of calls.

    A genai-prices price is affine in the token counts within a tier (the tier is chosen by the call's input tokens
    and its rate applies to all tokens), so each tier's per-token rates and fixed part are read once, exactly, from
    genai-prices and applied here with one formula for a single call and for arrays alike. Equal to `price_usage` to
    floating-point rounding (checked in tests), and thousands of times faster.
    """
    starts, rates = _affine(model, at)
    if isinstance(input_tokens, (int, float)):
        fixed, per_in, per_cached, per_out = rates[bisect.bisect_left(starts, input_tokens)]
    else:
        import numpy as np

        table = np.array(rates)[np.searchsorted(np.array(starts, dtype=float), input_tokens, side="left")]
        fixed, per_in, per_cached, per_out = np.moveaxis(table, -1, 0)
    return fixed + per_in * (input_tokens - cached_tokens) + per_cached * cached_tokens + per_out * output_tokens


@lru_cache(maxsize=256)
def _affine(model: str, at: datetime) -> tuple[tuple[int, ...], tuple[tuple[float, float, float, float], ...]]:
    starts, rates = _cached(model, at)["affine"]
    return tuple(starts), tuple(map(tuple, rates))


def describe(model: str, at: datetime) -> str:
    """The model's per-million-token prices, for the assumptions list."""
    return _cached(model, at)["describe"]


@lru_cache(maxsize=256)
def _cached(model: str, at: datetime) -> dict[str, Any]:
    """What the cost model needs from genai-prices for `model`, from the on-disk cache (keyed by the installed
    genai-prices version) when present: loading genai-prices' data takes longer than a whole decision."""
    from . import cache

    name = f"prices-{version()}.json"
    key = f"{model}@{at.isoformat()}"
    stored = cache.load(name)
    if key not in stored:
        stored[key] = {"affine": _derive_affine(model, at), "describe": _describe(model, at)}
        cache.save(name, stored)
    return stored[key]


def _derive_affine(model: str, at: datetime) -> tuple[tuple[int, ...], tuple[tuple[float, float, float, float], ...]]:
    """(tier starts, (fixed, per uncached input, per cached input, per output token) for each tier band), from exact
    genai-prices differences at two tokens into each band (a tier applies when input tokens exceed its start)."""
    _, _, info = _find(model)
    price = info.get_prices(at)
    starts = tuple(sorted({t.start for v in vars(price).values() for t in getattr(v, "tiers", None) or ()}))
    rates = []
    for lower in (0, *starts):
        i = lower + 1
        base = _exact(model, i, 0, 0, at)
        per_in = _exact(model, i + 1, 0, 0, at) - base
        per_cached = per_in + _exact(model, i + 1, 0, 1, at) - _exact(model, i + 1, 0, 0, at)
        per_out = _exact(model, i, 1, 0, at) - base
        rates.append((float(base - per_in * i), float(per_in), float(per_cached), float(per_out)))
    return starts, tuple(rates)


def _describe(model: str, at: datetime) -> str:
    _, provider, info = _find(model)
    price = info.get_prices(at)
    parts = []
    for label, key in (("input", "input_mtok"), ("cached input", "cache_read_mtok"), ("output", "output_mtok")):
        value = getattr(price, key, None)
        if value is not None:
            base = getattr(value, "base", value)  # TieredPrices: the base tier
            tiers = " (+tiers)" if hasattr(value, "tiers") else ""
            parts.append(f"{label} ${float(base):g}/M{tiers}")
    return f"{provider.name} {info.id}: " + ", ".join(parts)


@cache
def version() -> str:
    from importlib.metadata import version as v

    return v("genai-prices")
