"""Numbers as people read them: money, volumes, shares and durations (the memo, the JSON summary, messages)."""

from __future__ import annotations

import math


def usd(value: float | None) -> str:
    """Money as people read it: $1.2M, $18,400, $950, $0.0031."""
    if value is None or math.isnan(value):
        return "n/a"
    if math.isinf(value):  # an amount beyond any float: say so rather than fail the whole memo
        return "beyond any budget" if value > 0 else "−beyond any budget"
    sign, v = ("-" if value < 0 else ""), abs(value)
    if v >= 1e15:
        return f"{sign}${v:.2e}"
    if v >= 1e12:
        return f"{sign}${v / 1e12:.3g}T"
    if v >= 1e9:
        return f"{sign}${v / 1e9:.3g}B"
    if v >= 1e6:
        return f"{sign}${v / 1e6:.3g}M"
    if v >= 1000:
        return f"{sign}${float(f'{v:.3g}'):,.0f}"
    if v >= 100 or v == 0:
        return f"{sign}${v:,.0f}"
    if v >= 1:
        return f"{sign}${v:,.2f}"
    return f"{sign}${float(f'{v:.2g}'):g}" if v >= 1e-4 else f"{sign}${v:.1e}"


def num(value: float | None) -> str:
    """Volumes humanised: 950, 20k, 1.5M, 2T."""
    if value is None:
        return "n/a"
    v = abs(value)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}" if v < 100 else f"{value:,.0f}"


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f} %"


def ms(value: float) -> str:
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"


def value_text(v: object) -> str:
    """A field's value in words: enum values without underscores, numbers humanised."""
    if isinstance(v, str):
        return v.replace("_", " ")
    if isinstance(v, (int, float)):
        return num(float(v))
    return str(v)


def article(noun: str) -> str:
    """'a' or 'an' before `noun`, by its sound: an agent, an AI feature, a use case, an 8B model, a 70B model."""
    word = noun.strip().split(" ")[0].lower()
    vowel_sound = word[:1] in "aeio" or (word[:1] == "u" and not word.startswith(("use", "uni", "usu"))) or (
        word[:1].isdigit() and word.startswith(("8", "11", "18", "80"))) or (
        word.isupper() and word[:1] in "AEFHILMNORSX") or word in ("ai", "llm", "api", "ml", "mlops", "hour")
    return f"{'an' if vowel_sound else 'a'} {noun}"
