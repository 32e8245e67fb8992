"""How robust a decision is to the inputs people guess: tornado, flip points and Monte Carlo (`advisor sensitivity`).

Every figure comes from re-deciding the profile, never from a shortcut: `scenarios.evaluate` decides thousands of
variants at once with the same cost model and rules as `advisor decide`.

- Ranges: each uncertain input has one — the profile's own (`uncertainty`), else the catalog's stated default
  spread around its value (`advisor catalog` lists them with sources) — clipped to the field's limits.
- Tornado: each input alone at the ends of its range; the top candidates' TCO there and whether the winner changes.
- Flip points: from the current value, step outwards along a ladder (×1.5, ×2, ×3 … ×100, or absolute steps from
  zero) until the winner changes, then search the last step on a 64-point grid. The reported value is one the
  engine was run at (rounded outwards to two significant figures only when the rounded value gives the same new
  winner), so a reader — or a test — can set the input to it and see the stated winner.
- Monte Carlo: every ranged input drawn at once (seeded, reproducible); how often each candidate ranks first and
  its TCO percentiles.
"""

import math
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .catalog import Catalog, gpu_hourly, load_catalog, resolve
from .engine import LABELS, winner as winner_of
from .io import load_profile
from .rules import RuleSet, load_rules
from .schema import Profile, limits, numeric_fields

FACTORS = (1.5, 2, 3, 5, 10, 30, 100)
GRID = 64  # points searched between the last ladder step that kept the winner and the first that did not
RESIDENCY = ("none", "region", "on_prem", "air_gapped")
DEFAULT_SAMPLES = 10_000
DEFAULT_SEED = 2026
MAX_SAMPLES = 200_000
TOP = 3  # candidates whose TCO the tornado shows


# -- results --------------------------------------------------------------------------------------------------------

class Change(BaseModel):
    """One flip point: set `input` to `value` (from `current`) and `winner` wins instead."""

    input: str
    label: str
    direction: Literal["up", "down", "stricter", "looser"]
    current: int | float | str
    value: int | float | str
    winner: str


class InputRange(BaseModel):
    """An uncertain input as sampled: its current value, range and where the range came from."""

    input: str
    label: str
    current: float | None
    low: float
    high: float
    distribution: Literal["uniform", "log-uniform"]
    source: str


class Swing(BaseModel):
    """One tornado bar: the input alone at each end of its range."""
    model_config = ConfigDict(defer_build=True)  # validator built on first use: only `advisor sensitivity` makes one

    input: str
    label: str
    low: float
    high: float
    winner_low: str
    winner_high: str
    tco_low: dict[str, float]
    tco_high: dict[str, float]
    swing_usd: float  # the baseline winner's TCO change across the range


class Chance(BaseModel):
    """A candidate over the Monte Carlo scenarios."""
    model_config = ConfigDict(defer_build=True)  # validator built on first use: only `advisor sensitivity` makes one

    id: str
    label: str
    probability: float
    tco_p10: float
    tco_p50: float
    tco_p90: float


class Sensitivity(BaseModel):
    model_config = ConfigDict(defer_build=True)  # validator built on first use: only `advisor sensitivity` makes one
    schema_version: int = 1
    project: str
    winner: str
    samples: int
    seed: int
    robustness: str
    ranges: list[InputRange]
    tornado: list[Swing]
    flips: list[Change]
    monte_carlo: list[Chance]


# -- inputs ---------------------------------------------------------------------------------------------------------

def current_value(profile: Profile, path: str, catalog: Catalog) -> float | None:
    """The value the decision used: the profile's, or for an assumption left empty the catalog default."""
    section, name = path.split(".", 1)
    value = getattr(getattr(profile, section), name)
    if value is None and section == "assumptions":
        resolved = resolve(profile, catalog)
        value = gpu_hourly(resolved, catalog) if name == "gpu_hourly_usd" else getattr(resolved, name)
    return value


def bounds(path: str) -> tuple[float, float]:
    """The field's own limits, for clipping ranges and search steps."""
    lo, hi, _ = limits(numeric_fields()[path][0])
    return lo, hi


def ranges(profile: Profile, catalog: Catalog | None = None) -> list[InputRange]:
    """Every uncertain input with a non-empty range: the profile's ranges, then the catalog's default spreads."""
    catalog = catalog or load_catalog()
    out = {}
    for path, spread in catalog.uncertainty.items():
        x = current_value(profile, path, catalog)
        if x is None:
            continue
        lo, hi = {"factor": (x * spread.low, x * spread.high), "shift": (x + spread.low, x + spread.high),
                  "absolute": (spread.low, spread.high)}[spread.scale]
        least, most = bounds(path)
        lo, hi = min(max(lo, least), most), min(max(hi, least), most)
        if numeric_fields()[path][1]:  # a count: whole numbers inside the range
            lo, hi = math.ceil(lo), math.floor(hi)
        out[path] = InputRange(input=path, label=spread.label, current=x, low=lo, high=hi,
                               distribution="log-uniform" if spread.scale == "factor" and lo > 0 else "uniform",
                               source=f"catalog default ({spread.source}, {spread.date})")
    for path, r in profile.uncertainty.items():
        label = out[path].label if path in out else path.split(".", 1)[1].replace("_", " ")
        out[path] = InputRange(input=path, label=label, current=current_value(profile, path, catalog), low=r.low,
                               high=r.high, distribution=r.distribution, source="profile uncertainty")
    return [r for r in out.values() if r.high > r.low]


def _draw(r: InputRange, u):
    import numpy as np

    if r.distribution == "log-uniform":
        v = np.exp(math.log(r.low) + (math.log(r.high) - math.log(r.low)) * u)
    else:
        v = r.low + (r.high - r.low) * u
    return np.rint(v) if numeric_fields()[r.input][1] else v


# -- knobs the flip search turns ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Knob:
    input: str  # a `section.field` path, or "budget" (monthly and upfront scaled together)
    label: str
    from_zero: tuple[float, ...] = ()  # absolute ladder when the current value is 0
    additive: tuple[float, ...] = ()  # steps added instead of factors (growth rates)

    @property
    def integer(self) -> bool:
        return self.input != "budget" and numeric_fields()[self.input][1]

    def limits(self) -> tuple[float, float]:
        return (0.0, math.inf) if self.input == "budget" else bounds(self.input)

    def get(self, profile: Profile, catalog: Catalog | None = None) -> float | None:
        return 1.0 if self.input == "budget" else current_value(profile, self.input, catalog or load_catalog())

    def paths(self, profile: Profile, value: Any) -> dict[str, Any]:
        """The field values that setting this knob to `value` means."""
        if self.input == "budget":
            return {"budget.monthly_usd": profile.budget.monthly_usd * value,
                    "budget.upfront_usd": profile.budget.upfront_usd * value}
        return {self.input: value}

    def set(self, profile: Profile, value: Any) -> Profile:
        """`profile` with this knob at `value`: how a reader (or a test) checks a reported flip point."""
        for path, v in self.paths(profile, value).items():
            section, name = path.split(".", 1)
            part = getattr(profile, section).model_copy(update={name: v})
            profile = profile.model_copy(update={section: part})
        return profile


KNOBS = (
    Knob("usage.requests_per_day", "requests per day", from_zero=(100, 1000, 10_000, 100_000, 1_000_000)),
    Knob("usage.monthly_growth", "monthly growth", additive=(0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)),
    Knob("usage.input_tokens", "input tokens per call"),
    Knob("usage.output_tokens", "output tokens per call"),
    Knob("data.labeled_examples", "labeled examples", from_zero=(10, 100, 1000, 10_000, 100_000, 1_000_000)),
    Knob("latency.p95_ms", "p95 latency target"),
    Knob("assumptions.gpu_hourly_usd", "GPU $/hour"),
    Knob("assumptions.api_price_factor", "API price factor"),
    Knob("assumptions.mfu", "training MFU"),
    Knob("assumptions.engineer_monthly_usd", "engineer cost"),
    Knob("budget", "budget (monthly and upfront together)"),
)


def _ladder(knob: Knob, x0: float, up: bool) -> list[float]:
    if knob.additive:
        steps = [x0 + (d if up else -d) for d in knob.additive]
    elif x0 == 0:
        steps = list(knob.from_zero) if up else []
    else:
        steps = [x0 * f if up else x0 / f for f in FACTORS]
    lo, hi = knob.limits()
    out: list[float] = []
    for v in steps:
        v = min(max(v, lo), hi)
        if knob.integer:
            v = math.ceil(v) if up else math.floor(v)
        if v != x0 and (not out or v != out[-1]) and lo <= v <= hi:
            out.append(v)
    return out


def _grid(knob: Knob, same: float, flipped: float, up: bool) -> list[float]:
    geometric = not knob.additive and same > 0 and flipped > 0
    out: list[float] = []
    for k in range(1, GRID + 1):
        t = k / GRID
        v = same * (flipped / same) ** t if geometric else same + (flipped - same) * t
        if knob.integer:
            v = math.ceil(v) if up else math.floor(v)
        if k == GRID:
            v = flipped
        if v != same and (not out or v != out[-1]):
            out.append(v)
    return out


def _round_outwards(v: float, up: bool, integer: bool) -> float:
    """Two significant figures, rounded away from the current value (so the rounded value is still past the flip)."""
    if v == 0:
        return v
    scale = 10 ** (math.floor(math.log10(abs(v))) - 1)
    r = (math.ceil(v / scale) if up else math.floor(v / scale)) * scale
    r = float(f"{r:.12g}")
    return int(r) if integer else r


class _Runs:
    """Decides a list of (knob, value) settings of one profile in a single vectorised run."""

    def __init__(self, profile: Profile, catalog: Catalog, rules: RuleSet):
        self.profile, self.catalog, self.rules = profile, catalog, rules

    def outcome(self, settings: list[tuple[Knob, float]], winners_only: bool = False):
        import numpy as np

        from .scenarios import evaluate

        values: dict[str, Any] = {}
        shown: dict[str, Any] = {}  # an assumption the profile leaves empty stays empty where a scenario keeps it
        for i, (knob, value) in enumerate(settings):
            for path, v in knob.paths(self.profile, value).items():
                if path not in values:
                    base = current_value(self.profile, path, self.catalog)
                    values[path] = np.full(len(settings), np.nan if base is None else float(base))
                    section, name = path.split(".", 1)
                    if getattr(getattr(self.profile, section), name) is None:
                        shown[path] = np.full(len(settings), np.nan)
                values[path][i] = v
                if path in shown:
                    shown[path][i] = v
        return evaluate(self.profile, values, catalog=self.catalog, rules=self.rules, shown=shown,
                        winners_only=winners_only)

    def winners(self, settings: list[tuple[Knob, float]]) -> list[str]:
        return self.outcome(settings, winners_only=True).winners() if settings else []


def _flips(runs: _Runs, winner: str) -> list[Change]:
    profile, catalog = runs.profile, runs.catalog
    searches = []
    for knob in KNOBS:
        x0 = knob.get(profile, catalog)
        if x0 is None:
            continue
        for up in (False, True):
            searches.append((knob, x0, up, _ladder(knob, x0, up)))
    ladder = runs.winners([(k, v) for k, _, _, steps in searches for v in steps])
    brackets, i = [], 0
    for knob, x0, up, steps in searches:
        got = ladder[i:i + len(steps)]
        i += len(steps)
        j = next((j for j, w in enumerate(got) if w != winner), None)
        if j is not None:
            brackets.append((knob, x0, up, steps[j - 1] if j else x0, steps[j]))
    # Each bracket searched on a grid, in one run with the values its points round outwards to (two significant
    # figures read better: the rounded value is reported when the engine agrees there).
    searched = []  # (knob, x0, up, grid, each grid point's rounded value where it has one, every value to decide)
    for knob, x0, up, same, flipped in brackets:
        grid = _grid(knob, same, flipped, up)
        lo, hi = knob.limits()
        shown = {v: r for v in grid if (r := _round_outwards(v, up, knob.integer)) != v and lo <= r <= hi}
        searched.append((knob, x0, up, grid, shown, list(dict.fromkeys([*grid, *shown.values()]))))
    found = runs.winners([(knob, v) for knob, *_, values in searched for v in values])
    changes, i = [], 0
    for knob, x0, up, grid, shown, values in searched:
        at = dict(zip(values, found[i:i + len(values)]))
        i += len(values)
        value = next(v for v in grid if at[v] != winner)
        if value in shown and at[shown[value]] != winner:
            value = shown[value]
        changes.append(Change(input=knob.input, label=knob.label, direction="up" if up else "down", current=x0,
                              value=value, winner=at[value]))
    return changes


def _changes(runs: _Runs, winner: str) -> list[Change]:
    """Every flip point: the numeric inputs', then data residency's."""
    return _flips(runs, winner) + _residency(runs, winner)


def _residency(runs: _Runs, winner: str) -> list[Change]:
    """Residency is a choice, not a number: try each level in turn, stricter and looser (costs do not change)."""
    from .costs import CostModel

    profile, catalog, rules = runs.profile, runs.catalog, runs.rules
    figures = CostModel(profile, catalog).figures(by_month=False)
    current = profile.data.residency
    i = RESIDENCY.index(current)
    out = []
    for direction, order in (("stricter", RESIDENCY[i + 1:]), ("looser", RESIDENCY[:i][::-1])):
        for value in order:
            changed = profile.model_copy(update={"data": profile.data.model_copy(update={"residency": value})})
            new = winner_of(changed, catalog=catalog, rules=rules, figures=figures)
            if new != winner:
                out.append(Change(input="data.residency", label="data residency", direction=direction,
                                  current=current, value=value, winner=new))
                break
    return out


def what_would_change(profile: Profile | dict | str, *, catalog: Catalog | None = None,
                      rules: RuleSet | None = None, winner: str | None = None) -> list[Change]:
    """The smallest change found of each key input, in each direction, that gives a different winner."""
    profile = load_profile(profile)
    rules = rules or load_rules()
    winner = winner or winner_of(profile, catalog=catalog, rules=rules)
    return _changes(_Runs(profile, catalog or load_catalog(), rules), winner)


# -- tornado and Monte Carlo ----------------------------------------------------------------------------------------

def _knob(r: InputRange) -> Knob:
    return next((k for k in KNOBS if k.input == r.input), Knob(r.input, r.label))


def tornado(inputs: list[InputRange], winner: str, top: list[str], runs: _Runs) -> list[Swing]:
    """Each input alone at the ends of its range: the `top` candidates' TCO there and the winner."""
    from .scenarios import IDS

    settings = [(_knob(r), v) for r in inputs for v in (r.low, r.high)]
    outcome = runs.outcome(settings)
    rows = []
    wins = outcome.winners() if settings else []
    at = {c: IDS.index(c) for c in top}
    for k, r in enumerate(inputs):
        lo, hi = 2 * k, 2 * k + 1
        tco_lo = {c: float(outcome.tco[i, lo]) for c, i in at.items()}
        tco_hi = {c: float(outcome.tco[i, hi]) for c, i in at.items()}
        rows.append(Swing(input=r.input, label=r.label, low=r.low, high=r.high, winner_low=wins[lo],
                          winner_high=wins[hi], tco_low=tco_lo, tco_high=tco_hi,
                          swing_usd=abs(tco_hi[winner] - tco_lo[winner])))
    rows.sort(key=lambda s: (s.winner_low == winner and s.winner_high == winner, -s.swing_usd, s.input))
    return rows


def _scenarios(profile: Profile, inputs: list[InputRange], samples: int, seed: int, runs: _Runs,
               winners_only: bool = False):
    """Decide `samples` joint draws of every range (seeded)."""
    import numpy as np

    from .scenarios import evaluate

    rng = np.random.default_rng(seed)
    values = {r.input: _draw(r, rng.random(samples)) for r in sorted(inputs, key=lambda r: r.input)}
    if not values:  # nothing uncertain: every scenario is the profile itself
        values = {"usage.requests_per_day": np.full(samples, float(profile.usage.requests_per_day))}
    return evaluate(profile, values, catalog=runs.catalog, rules=runs.rules, winners_only=winners_only)


def monte_carlo(profile: Profile, inputs: list[InputRange], samples: int, seed: int, runs: _Runs) -> list[Chance]:
    """Each candidate's share of first places and TCO percentiles over `samples` joint draws of every range."""
    import numpy as np

    from .scenarios import IDS

    outcome = _scenarios(profile, inputs, samples, seed, runs)
    counts = np.bincount(outcome.winner, minlength=len(IDS))
    pct = np.percentile(outcome.tco, [10, 50, 90], axis=1)
    out = [Chance(id=c, label=LABELS[c], probability=float(counts[i]) / samples, tco_p10=float(pct[0, i]),
                  tco_p50=float(pct[1, i]), tco_p90=float(pct[2, i])) for i, c in enumerate(IDS)]
    out.sort(key=lambda c: (-c.probability, c.tco_p50, c.id))
    return out


def robustness(winner: str, probability: float, samples: int) -> str:
    """"prompt+rag@api wins in 87 % of 10,000 scenarios" — never rounded up to 100 % or down to 0 %."""
    p = probability * 100
    shown = f"{p:.1f}" if (0 < p < 0.5 or 99.5 <= p < 100) else f"{p:.0f}"
    return f"{winner} wins in {shown} % of {samples:,} scenarios"


def for_memo(profile: Profile, winner: str, *, samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED,
             catalog: Catalog | None = None, rules: RuleSet | None = None) -> tuple[list[Change], str]:
    """What the memo states: the flip points and the Monte Carlo robustness line — the same scenarios as
    `analyse`, decided for their winners only (no percentiles, unbeatable candidates left unpriced)."""
    from .scenarios import IDS

    catalog, rules = catalog or load_catalog(), rules or load_rules()
    runs = _Runs(profile, catalog, rules)
    outcome = _scenarios(profile, ranges(profile, catalog), samples, seed, runs, winners_only=True)
    share = float((outcome.winner == IDS.index(winner)).sum()) / samples
    return _changes(runs, winner), robustness(winner, share, samples)


def analyse(profile: Profile | dict | str, *, samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED,
            catalog: Catalog | None = None, rules: RuleSet | None = None) -> Sensitivity:
    """Tornado, flip points and Monte Carlo for `profile` (the library call behind `advisor sensitivity`)."""
    from .engine import scored
    from .errors import InputError

    if not 1 <= samples <= MAX_SAMPLES:
        raise InputError(f"--samples: must be between 1 and {MAX_SAMPLES:,} (got {samples})")
    if not 0 <= seed < 2**63:
        raise InputError(f"--seed: must be a whole number ≥ 0 (got {seed})")
    profile = load_profile(profile)
    catalog = catalog or load_catalog()
    rules = rules or load_rules()
    _, ranking = scored(profile, catalog=catalog, rules=rules)
    winner = ranking[0].id
    top = [r.id for r in ranking if r.eligible][:TOP] or [winner]
    runs = _Runs(profile, catalog, rules)
    inputs = ranges(profile, catalog)
    chances = monte_carlo(profile, inputs, samples, seed, runs)
    share = next(c.probability for c in chances if c.id == winner)
    return Sensitivity(project=profile.project.name, winner=winner, samples=samples, seed=seed,
                       robustness=robustness(winner, share, samples), ranges=inputs,
                       tornado=tornado(inputs, winner, top, runs), flips=_changes(runs, winner), monte_carlo=chances)
