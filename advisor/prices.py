"""Hosted-API prices, from genai-prices (the only module that imports it), through its public `calc_price`.

Prices are read at the catalog's fixed `price_timestamp`, so a decision never changes with the wall clock, and the
online updater is never started. Within an input-token tier a genai-prices price is affine in the token counts, so
each tier's fixed part and per-token rates (uncached input, cached input, output) are read once, exactly, from
genai-prices and applied to any number of calls with one formula. The rates of the models the catalog names ship as
a generated table (`advisor/data/prices.json`; `python -m advisor.prices` regenerates it and a test checks it is
reproduced byte for byte); any other model is read from genai-prices the same way the first time it is asked for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .errors import UnknownIdError, did_you_mean
from .frame import Array

TABLE = Path(__file__).parent / "data" / "prices.json"
# Models whose rates ship in the table: the catalog's defaults and the hosted models people most often compare.
TABLE_MODELS = ("gpt-6-luna", "gpt-6.1-sol", "gpt-4.1-mini", "gpt-4.1", "gpt-4.1-nano", "gpt-4o", "gpt-4o-mini",
                "claude-sonnet-4-5", "claude-haiku-4-5", "gemini-2.5-pro", "gemini-2.5-flash")


@dataclass(frozen=True)
class Rates:
    """One model's prices: tier starts (input tokens) and, per tier, (fixed, uncached input, cached input,
    output) USD per call and per token; a tier applies when a call's input tokens exceed its start."""

    starts: tuple[int, ...]
    rates: tuple[tuple[float, float, float, float], ...]
    describe: str  # per-million-token prices, for the assumptions list
    provider: str  # genai-prices' provider id


def _calc(model: str, input_tokens: int, output_tokens: int, cached_tokens: int, at: datetime) -> Any:
    """genai-prices' price of one call at `at`; `provider:model` names the provider (`groq:llama-3.3-70b-versatile`)."""
    import genai_prices

    provider, _, name = model.rpartition(":")
    usage = genai_prices.Usage(input_tokens=input_tokens, cache_read_tokens=cached_tokens, output_tokens=output_tokens)
    try:
        return genai_prices.calc_price(usage, name, provider_id=provider or None, genai_request_timestamp=at)
    except LookupError:
        raise UnknownIdError(f"unknown API model {model!r}{did_you_mean(model, TABLE_MODELS)}: genai-prices "
                             f"{version()} has no price for it") from None


def exact_usd(model: str, input_tokens: int, output_tokens: int, cached_tokens: int, at: datetime) -> Decimal:
    """genai-prices' own price of one call (`input_tokens` includes `cached_tokens`), averaged over the hours of
    `at`'s day: some providers charge by time of day, and a call can come at any hour."""
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    total = sum((Decimal(_calc(model, input_tokens, output_tokens, cached_tokens, day + timedelta(hours=h)).total_price)
                 for h in range(24)), Decimal(0))
    return total / 24


def derive(model: str, at: datetime) -> Rates:
    """A model's tiers and rates, from exact genai-prices differences two tokens into each tier."""
    price = _calc(model, 1, 0, 0, at).model_price
    units = [getattr(price, key, None) for key in ("input_mtok", "cache_read_mtok", "output_mtok")]
    starts = tuple(sorted({t.start for u in units for t in getattr(u, "tiers", None) or ()}))
    rates = []
    for lower in (0, *starts):
        i = lower + 1
        base = exact_usd(model, i, 0, 0, at)
        per_in = exact_usd(model, i + 1, 0, 0, at) - base
        per_cached = per_in + exact_usd(model, i + 1, 0, 1, at) - exact_usd(model, i + 1, 0, 0, at)
        per_out = exact_usd(model, i, 1, 0, at) - base
        rates.append((float(base - per_in * i), float(per_in), float(per_cached), float(per_out)))
    return Rates(starts, tuple(rates), _describe(model, price, at), _calc(model, 1, 0, 0, at).provider.id)


def _describe(model: str, price: Any, at: datetime) -> str:
    found = _calc(model, 1, 0, 0, at)
    parts = []
    for label, key in (("input", "input_mtok"), ("cached input", "cache_read_mtok"), ("output", "output_mtok")):
        value = getattr(price, key, None)
        if value is not None:
            base = getattr(value, "base", value)  # tiered prices: the base tier
            tiers = " (+tiers)" if hasattr(value, "tiers") else ""
            parts.append(f"{label} ${float(base):g}/M{tiers}")
    return f"{found.provider.name} {found.model.id}: " + ", ".join(parts)


def version() -> str:
    from importlib.metadata import version as v

    return v("genai-prices")


def generate(at: datetime) -> str:
    """The table's text for `TABLE_MODELS` at `at`, from the installed genai-prices."""
    models = {m: {"starts": list(r.starts), "rates": [list(x) for x in r.rates], "describe": r.describe,
                  "provider": r.provider}
              for m in TABLE_MODELS for r in (derive(m, at),)}
    return json.dumps({"genai_prices": version(), "at": at.isoformat(), "models": models}, indent=1) + "\n"


class Prices:
    """Prices at one moment: the shipped table when it was generated for that moment, else genai-prices. Each
    model's rates are read once per `Prices` (one per Advisor)."""

    def __init__(self, at: datetime):
        self.at = at
        self._rates: dict[str, Rates] = {}

    @cached_property
    def _shipped(self) -> dict[str, Any]:
        return dict(json.loads(TABLE.read_text(encoding="utf-8")))

    @cached_property
    def _table(self) -> dict[str, Any]:
        data = self._shipped
        return dict(data["models"]) if data["at"] == self.at.isoformat() else {}

    @cached_property
    def version(self) -> str:
        """The genai-prices version the prices come from (the pinned one the table was generated with)."""
        return str(self._shipped["genai_prices"])

    def rates(self, model: str) -> Rates:
        found = self._rates.get(model)
        if found is None:
            entry = self._table.get(model)
            if entry is not None:
                found = Rates(tuple(entry["starts"]), tuple(tuple(r) for r in entry["rates"]), entry["describe"],
                              entry["provider"])
            else:
                found = derive(model, self.at)
            self._rates[model] = found
        return found

    def check(self, model: str) -> None:
        """An UnknownIdError naming `model` if genai-prices has no price for it."""
        self.rates(model)

    def call_usd(self, models: Array, input_tokens: Array, output_tokens: Array, cached_tokens: Array) -> Array:
        """USD per call, per scenario: `models` (text) may differ between scenarios."""
        out: Array | None = None
        ids = np.unique(models).tolist()
        for model in ids:
            r = self.rates(model)
            table = np.array(r.rates)[np.searchsorted(np.array(r.starts, dtype=float), input_tokens, side="left")]
            fixed, per_in, per_cached, per_out = np.moveaxis(table, -1, 0)
            usd = fixed + per_in * (input_tokens - cached_tokens) + per_cached * cached_tokens + per_out * output_tokens
            out = usd if out is None else np.where(np.equal(models, model), usd, out)
        assert out is not None
        return out


if __name__ == "__main__":  # python -m advisor.prices: regenerate the shipped table
    from .catalog import load_catalog

    TABLE.write_text(generate(load_catalog().price_timestamp), encoding="utf-8")
    print(f"wrote {TABLE}")
