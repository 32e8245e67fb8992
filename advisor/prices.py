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


def price_usage_many(model: str, input_tokens, output_tokens, cached_tokens, at: datetime):
    """`price_usage` over numpy arrays of calls, for sensitivity runs.

    genai-prices prices one call at a time, and a call's price is affine in its token counts within a tier (the
    tier is chosen by the call's input tokens and its rate applies to all tokens). So for each tier band the calls
    fall in, exact genai-prices differences at one call of that band give the band's rates; every call in the band
    is priced from them. Equal to `price_usage` to floating-point rounding (checked in tests).
    """
    import numpy as np

    i, o, c = (a.astype(np.int64) for a in np.broadcast_arrays(input_tokens, output_tokens, cached_tokens))
    starts = np.array(_tier_starts(model, at), dtype=np.int64)
    band = np.searchsorted(starts, i, side="left")  # a tier applies when input tokens exceed its start
    out = np.empty(i.shape)
    for b in np.unique(band).tolist():
        mask = band == b
        k = np.flatnonzero(mask)[0]
        i0, o0, c0 = int(i.flat[k]), int(o.flat[k]), int(c.flat[k])
        p0 = price_usage(model, i0, o0, c0, at)
        step = 1 if b == len(starts) or i0 + 1 <= starts[b] else -1  # stay inside the band
        per_in = (price_usage(model, i0 + step, o0, c0, at) - p0) * step
        per_out = price_usage(model, i0, o0 + 1, c0, at) - p0
        per_cached = price_usage(model, i0 + 1, o0, c0 + 1, at) - price_usage(model, i0 + 1, o0, c0, at) \
            if step == 1 else price_usage(model, i0, o0, c0 + 1, at) - p0
        out[mask] = p0 + per_in * (i[mask] - i0) + per_out * (o[mask] - o0) + per_cached * (c[mask] - c0)
    return out


@lru_cache(maxsize=256)
def _tier_starts(model: str, at: datetime) -> tuple[int, ...]:
    _, _, info = _find(model)
    price = info.get_prices(at)
    return tuple(sorted({t.start for value in vars(price).values() for t in getattr(value, "tiers", None) or ()}))


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
