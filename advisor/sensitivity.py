"""What would change the decision: the smallest change of each key input that gives a different winner.

Found by re-running the whole engine, never guessed: from the current value, step outwards along a ladder (×1.5, ×2,
×3 … ×100, or absolute steps from zero) until the winner changes, then bisect between the last step that kept the
winner and the first that did not. The reported value is one the engine was actually run at (rounded outwards to
two significant figures only when the rounded value gives the same new winner), so a reader — or a test — can set
the input to it and see the stated winner.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from .catalog import Catalog
from .costs import CostModel
from .engine import winner as winner_of
from .rules import RuleSet
from .schema import Profile

FACTORS = (1.5, 2, 3, 5, 10, 30, 100)
BISECT_STEPS = 6
RESIDENCY = ("none", "region", "on_prem", "air_gapped")


class Change(BaseModel):
    """One flip point: set `input` to `value` (from `current`) and `winner` wins instead."""

    input: str
    label: str
    direction: Literal["up", "down", "stricter", "looser"]
    current: float | str
    value: float | str
    winner: str


@dataclass(frozen=True)
class _Knob:
    input: str
    label: str
    get: Callable[[Profile], Any]
    set: Callable[[Profile, Any], Profile]
    integer: bool = False
    lo: float = 0.0
    hi: float = math.inf
    from_zero: tuple[float, ...] = ()  # absolute ladder when the current value is 0
    additive: tuple[float, ...] = ()  # steps added instead of factors (growth rates)
    reprices: bool = True  # False when the input only feeds rules (budget, residency): reuse the baseline pricing


def _setter(section: str, name: str) -> Callable[[Profile, Any], Profile]:
    def set_(p: Profile, value: Any) -> Profile:
        part = getattr(p, section).model_copy(update={name: value})
        return p.model_copy(update={section: part})
    return set_


def _field(section: str, name: str, label: str, **kw: Any) -> _Knob:
    return _Knob(f"{section}.{name}", label, lambda p: getattr(getattr(p, section), name), _setter(section, name),
                 **kw)


def _scale_budget(p: Profile, factor: float) -> Profile:
    b = p.budget.model_copy(update={"monthly_usd": p.budget.monthly_usd * factor,
                                    "upfront_usd": p.budget.upfront_usd * factor})
    return p.model_copy(update={"budget": b})


KNOBS = (
    _field("usage", "requests_per_day", "requests per day", from_zero=(100, 1000, 10_000, 100_000, 1_000_000)),
    _field("usage", "monthly_growth", "monthly growth", lo=-0.5, hi=5.0,
           additive=(0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)),
    _field("data", "labeled_examples", "labeled examples", integer=True,
           from_zero=(10, 100, 1000, 10_000, 100_000, 1_000_000)),
    _field("latency", "p95_ms", "p95 latency target", integer=True, lo=1),
    _Knob("budget", "budget (monthly and upfront together)", lambda p: 1.0, _scale_budget, reprices=False),
)
RESIDENCY_KNOB = _field("data", "residency", "data residency", reprices=False)


class _Search:
    """One search: the baseline profile, its winner, and its pricing (reused by knobs that cannot change costs)."""

    def __init__(self, profile: Profile, catalog: Catalog | None, rules: RuleSet, winner: str):
        self.profile, self.catalog, self.rules, self.winner = profile, catalog, rules, winner
        self.priced = list(CostModel(profile, catalog).price_all().values())

    def winner_at(self, knob: _Knob, value: Any) -> str:
        return winner_of(knob.set(self.profile, value), catalog=self.catalog, rules=self.rules,
                         priced=None if knob.reprices else self.priced)

    def ladder(self, knob: _Knob, x0: float, up: bool) -> list[float]:
        if knob.additive:
            steps = [x0 + (d if up else -d) for d in knob.additive]
        elif x0 == 0:
            steps = list(knob.from_zero) if up else []
        else:
            steps = [x0 * f if up else x0 / f for f in FACTORS]
        out = []
        for v in steps:
            v = min(max(v, knob.lo), knob.hi)
            if knob.integer:
                v = math.ceil(v) if up else math.floor(v)
            if v != x0 and (not out or v != out[-1]):
                out.append(v)
        return out

    def flip(self, knob: _Knob, up: bool) -> Change | None:
        x0 = knob.get(self.profile)
        same = x0
        for v in self.ladder(knob, x0, up):
            new = self.winner_at(knob, v)
            if new != self.winner:
                return self._bisect(knob, x0, same, v, new, up)
            same = v
        return None

    def _bisect(self, knob: _Knob, x0: float, same: float, flipped: float, new: str, up: bool) -> Change:
        geometric = not knob.additive and same > 0 and flipped > 0
        for _ in range(BISECT_STEPS):
            mid = math.sqrt(same * flipped) if geometric else (same + flipped) / 2
            if knob.integer:
                mid = math.ceil(mid) if up else math.floor(mid)
            if mid in (same, flipped):
                break
            winner = self.winner_at(knob, mid)
            if winner == self.winner:
                same = mid
            else:
                flipped, new = mid, winner
        shown = _round_outwards(flipped, up, knob.integer)
        if shown != flipped and (up and shown > same or not up and shown < same):
            if (w := self.winner_at(knob, shown)) != self.winner:
                flipped, new = shown, w
        return Change(input=knob.input, label=knob.label, direction="up" if up else "down", current=x0,
                      value=flipped, winner=new)


def _round_outwards(v: float, up: bool, integer: bool) -> float:
    """Two significant figures, rounded away from the current value (so the rounded value is still past the flip)."""
    if v == 0:
        return v
    scale = 10 ** (math.floor(math.log10(abs(v))) - 1)
    r = (math.ceil(v / scale) if up else math.floor(v / scale)) * scale
    r = float(f"{r:.12g}")
    return int(r) if integer else r


def what_would_change(profile: Profile, *, catalog: Catalog | None = None, rules: RuleSet | None = None,
                      winner: str | None = None) -> list[Change]:
    """The smallest change found of each key input, in each direction, that gives a different winner."""
    from .io import load_profile
    from .rules import load_rules

    profile = load_profile(profile)
    rules = rules or load_rules()
    winner = winner or winner_of(profile, catalog=catalog, rules=rules)
    search = _Search(profile, catalog, rules, winner)
    changes = [c for knob in KNOBS for up in (False, True) if (c := search.flip(knob, up)) is not None]
    current = profile.data.residency
    i = RESIDENCY.index(current)
    for direction, order in (("stricter", RESIDENCY[i + 1:]), ("looser", RESIDENCY[:i][::-1])):
        for value in order:
            new = search.winner_at(RESIDENCY_KNOB, value)
            if new != winner:
                changes.append(Change(input="data.residency", label="data residency", direction=direction,
                                      current=current, value=value, winner=new))
                break
    return changes
