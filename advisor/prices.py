"""Hosted-API prices, through genai-prices (the only module that imports it).

Prices are looked up at the catalog's fixed `price_timestamp`, so a decision never changes with the wall clock, and
one request at a time (tiers are per request). genai-prices' online updater (`UpdatePrices`) is never started: the
pinned package's bundled snapshot is the price list.
"""

from __future__ import annotations

from datetime import datetime
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
    from genai_prices import Usage

    _, provider, info = _find(model)
    usage = Usage(input_tokens=input_tokens, cache_read_tokens=cached_tokens, output_tokens=output_tokens)
    return float(info.calc_price(usage, provider, genai_request_timestamp=at).total_price)


@lru_cache(maxsize=256)
def describe(model: str, at: datetime) -> str:
    """The model's per-million-token prices, for the assumptions list."""
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
