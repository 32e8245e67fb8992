"""How robust a decision is to the inputs people guess: tornado, flip points and Monte Carlo (`advisor sensitivity`).

Every figure comes from re-deciding the profile, never from a shortcut: the profile's frame with some columns varied
goes through the same `Run` — cost model, rules, ranking — as `advisor decide`, thousands of variants at once.

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
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from .engine import CANDIDATES, IDS, Outcome
from .errors import InputError
from .evaluation import _at
from .schema import Profile, limits, numeric_fields

if TYPE_CHECKING:
    from .evaluation import Evaluation, Run

FACTORS = (1.5, 2, 3, 5, 10)  # a plausible change: a tenth to ten times today's value
GRID = 64  # points searched between the last ladder step that kept the winner and the first that did not
RESIDENCY = ("none", "region", "on_prem", "air_gapped")
DEFAULT_SAMPLES = 10_000  # `advisor sensitivity`
# The win share every decision states (and its confidence rests on) is drawn in stages of these cumulative sizes: a
# decision stops once the confidence it gets is the same at both ends of its share's Wilson interval (Z standard
# errors wide), so every threshold that can change the confidence is judged on enough draws and the rest stop early.
SHARE_STAGES = (50, 250, 1_000)
Z = 2.0
# The tornado lists an input only if it changes the winner or swings the winner's TCO by at least this share: a
# smaller swing moves neither the decision nor the budget.
MATERIAL_SHARE = 0.01
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

def current_at(run: "Run", path: str, j: int) -> float | None:
    """The value scenario j's decision used: the profile's, or for an assumption left empty the effective one."""
    section, name = path.split(".", 1)
    value = _at(run.values[name] if section == "assumptions" else run.frame[path], j)
    return None if value is None else float(value)


def current_value(ev: "Evaluation", path: str) -> float | None:
    """The value the decision used: the profile's, or for an assumption left empty the effective default."""
    return current_at(ev.run, path, 0)


def bounds(path: str) -> tuple[float, float]:
    """The field's own limits, for clipping ranges and search steps."""
    lo, hi, _ = limits(numeric_fields()[path][0])
    return lo, hi


def ranges_at(run: "Run", j: int) -> list[InputRange]:
    """Every uncertain input of scenario j with a non-empty range: its profile's ranges, then the catalog's default
    spreads around the value the decision used."""
    out = {}
    for path, spread in run.advisor.catalog.uncertainty.items():
        x = current_at(run, path, j)
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
    for path, r in run.frame.ranges_of(j).items():
        label = out[path].label if path in out else path.split(".", 1)[1].replace("_", " ")
        out[path] = InputRange(input=path, label=label, current=current_at(run, path, j), low=r.low, high=r.high,
                               distribution=r.distribution, source="profile uncertainty")
    return [r for r in out.values() if r.high > r.low]


def ranges(ev: "Evaluation") -> list[InputRange]:
    """The profile's uncertain inputs and their ranges (see `ranges_at`)."""
    return ranges_at(ev.run, 0)


def _draw(r: InputRange, u: Any) -> Any:
    if r.distribution == "log-uniform":
        v = np.exp(math.log(r.low) + (math.log(r.high) - math.log(r.low)) * u)
    else:
        v = r.low + (r.high - r.low) * u
    return np.rint(v) if numeric_fields()[r.input][1] else v


def draws(run: "Run", stop: int, seed: int, start: int = 0) -> "Run":
    """Monte Carlo scenarios `start` … `stop` − 1 of each scenario of `run`, in blocks (scenario j's together), every
    ranged input drawn at once from random numbers seeded by `seed` and the input's name, so a scenario's draws do not
    depend on which other scenarios share the run (a batch chunk decides each profile as it would alone), and a later
    stage continues the same sequence."""
    per = [{r.input: r for r in ranges_at(run, j)} for j in range(run.frame.n)]
    values: dict[str, Any] = {}
    count = stop - start
    for path in sorted({p for ranged in per for p in ranged}):
        u = np.random.default_rng([seed, zlib.crc32(path.encode())]).random(stop)[start:]
        values[path] = np.concatenate([_draw(ranged[path], u) if path in ranged else
                                       np.full(count, _at(run.frame[path], j), dtype=float)
                                       for j, ranged in enumerate(per)])
    frame = run.frame.repeat(count)
    return run.advisor.run(frame.vary(values) if values else frame)


def wilson(wins: Any, n: int) -> tuple[Any, Any]:
    """The Wilson score interval of a share of `wins` in `n` draws, Z standard errors wide."""
    p, z2 = wins / n, Z * Z
    centre, half = (p + z2 / (2 * n)) / (1 + z2 / n), Z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return np.maximum(centre - half, 0.0), np.minimum(centre + half, 1.0)


def win_shares(run: "Run", settled: Callable[[int, float, float], bool], seed: int = DEFAULT_SEED) -> tuple[Any, Any]:
    """Each scenario's winner's share of first place over its Monte Carlo draws, and how many draws that took: drawn
    in SHARE_STAGES until `settled(j, low, high)` says the share's interval no longer matters to scenario j."""
    n = run.frame.n
    wins, drawn = np.zeros(n), np.zeros(n, dtype=int)
    pending, sub, start = np.arange(n), run, 0
    for stop in SHARE_STAGES:
        won = draws(sub, stop, seed, start).winners.winner.reshape(len(pending), stop - start)
        wins[pending] += (won == run.winners.winner[pending][:, None]).sum(axis=1)
        drawn[pending] = stop
        low, high = wilson(wins[pending], stop)
        pending = np.array([j for j, lo, hi in zip(pending.tolist(), low.tolist(), high.tolist(), strict=True)
                            if not settled(j, lo, hi)], dtype=int)
        if not len(pending):
            break
        sub, start = run.advisor.run(run.frame.take(pending)), stop
    return wins / drawn, drawn


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

    def get(self, ev: "Evaluation") -> float | None:
        return 1.0 if self.input == "budget" else current_value(ev, self.input)

    def plausible(self, x0: float) -> tuple[float, float]:
        """The values this knob is searched over: a tenth to ten times today's, within the field's limits (growth:
        ±0.2 a month around today's; from zero, up to the last step of its ladder)."""
        lo, hi = self.limits()
        if self.additive:
            return max(lo, x0 - self.additive[-1]), min(hi, x0 + self.additive[-1])
        if x0 == 0:
            return lo, min(hi, self.from_zero[-1]) if self.from_zero else lo
        return max(lo, x0 / FACTORS[-1]), min(hi, x0 * FACTORS[-1])

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
    Knob("usage.requests_per_day", "requests per day", from_zero=(10, 100, 1000)),
    Knob("usage.monthly_growth", "monthly growth", additive=(0.02, 0.05, 0.1, 0.2)),
    Knob("usage.input_tokens", "input tokens per call"),
    Knob("usage.output_tokens", "output tokens per call"),
    Knob("data.labeled_examples", "labeled examples", from_zero=(10, 100, 1000)),
    Knob("latency.p95_ms", "p95 latency target"),
    Knob("assumptions.gpu_hourly_usd", "GPU $/hour"),
    Knob("assumptions.api_price_factor", "API price factor"),
    Knob("assumptions.api_price_change_per_year", "API price change per year"),
    Knob("assumptions.gpu_price_change_per_year", "GPU price change per year"),
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
    lo, hi = knob.plausible(x0)
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


def _decide(ev: "Evaluation", settings: list[tuple[Knob, float]], *, winners_only: bool = True) -> Outcome:
    """Decide a list of (knob, value) settings of the profile in one run of its frame. An assumption the profile
    leaves empty stays empty (to the rules; the cost model uses its default) in scenarios that do not set it."""
    values: dict[str, Any] = {}
    for i, (knob, value) in enumerate(settings):
        for path, v in knob.paths(ev.profile, value).items():
            if path not in values:
                values[path] = np.full(len(settings), ev.run.frame[path], dtype=float)
            values[path][i] = v
    run = ev.advisor.run(ev.run.frame.vary(values))
    return run.winners if winners_only else run.outcome


def _winners(ev: "Evaluation", settings: list[tuple[Knob, float]]) -> list[str | None]:
    """Each setting's winner, or None where no path is viable there (a flip point must lead to a viable winner)."""
    if not settings:
        return []
    outcome = _decide(ev, settings)
    return [w if ok else None for w, ok in zip(outcome.winners(), outcome.viable().tolist(), strict=True)]


def _numeric_flips(ev: "Evaluation", winner: str) -> list[Change]:
    searches = []
    for knob in KNOBS:
        x0 = knob.get(ev)
        if x0 is None:
            continue
        for up in (False, True):
            searches.append((knob, x0, up, _ladder(knob, x0, up)))
    ladder = _winners(ev, [(k, v) for k, _, _, steps in searches for v in steps])
    brackets, i = [], 0
    for knob, x0, up, steps in searches:
        got = ladder[i:i + len(steps)]
        i += len(steps)
        j = next((j for j, w in enumerate(got) if w is not None and w != winner), None)
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
    found = _winners(ev, [(knob, v) for knob, *_, values in searched for v in values])
    changes, i = [], 0
    for knob, x0, up, grid, shown, values in searched:
        at = dict(zip(values, found[i:i + len(values)], strict=False))
        i += len(values)
        value = next(v for v in grid if at[v] is not None and at[v] != winner)
        if value in shown and at[shown[value]] == at[value]:
            value = shown[value]
        new = at[value]
        assert new is not None
        changes.append(Change(input=knob.input, label=knob.label, direction="up" if up else "down", current=x0,
                              value=value, winner=new))
    return changes


def _residency(ev: "Evaluation", winner: str) -> list[Change]:
    """Residency is a choice, not a number: try each level in turn, stricter and looser."""
    current = ev.profile.data.residency
    i = RESIDENCY.index(current)
    tried = [("stricter", RESIDENCY[i + 1:]), ("looser", RESIDENCY[:i][::-1])]
    levels = [v for _, order in tried for v in order]
    if not levels:
        return []
    run = ev.advisor.run(ev.run.frame.vary({"data.residency": np.array(levels, dtype=object)}))
    at = {level: w for level, w, ok in zip(levels, run.winners.winners(), run.winners.viable().tolist(), strict=True)
          if ok}
    out = []
    for direction, order in tried:
        value = next((v for v in order if v in at and at[v] != winner), None)
        if value is not None:
            out.append(Change(input="data.residency", label="data residency", direction=direction,
                              current=current, value=value, winner=at[value]))
    return out


def flips(ev: "Evaluation") -> list[Change]:
    """Every flip point: the numeric inputs', then data residency's."""
    winner = ev.summary.recommendation
    return _numeric_flips(ev, winner) + _residency(ev, winner)


# -- tornado and Monte Carlo ----------------------------------------------------------------------------------------

def _knob(r: InputRange) -> Knob:
    return next((k for k in KNOBS if k.input == r.input), Knob(r.input, r.label))


def tornado(ev: "Evaluation", inputs: list[InputRange], winner: str, top: list[str]) -> list[Swing]:
    """Each input alone at the ends of its range: the `top` candidates' TCO there and the winner."""
    settings = [(_knob(r), v) for r in inputs for v in (r.low, r.high)]
    if not settings:
        return []
    outcome = _decide(ev, settings, winners_only=False)
    wins = outcome.winners()
    at = {c: IDS.index(c) for c in top}
    rows = []
    for k, r in enumerate(inputs):
        lo, hi = 2 * k, 2 * k + 1
        tco_lo = {c: float(outcome.tco[i, lo]) for c, i in at.items()}
        tco_hi = {c: float(outcome.tco[i, hi]) for c, i in at.items()}
        rows.append(Swing(input=r.input, label=r.label, low=r.low, high=r.high, winner_low=wins[lo],
                          winner_high=wins[hi], tco_low=tco_lo, tco_high=tco_hi,
                          swing_usd=abs(tco_hi[winner] - tco_lo[winner])))
    base = float(ev.run.outcome.tco[IDS.index(winner), 0])
    material = [s for s in rows if s.winner_low != winner or s.winner_high != winner
                or s.swing_usd >= MATERIAL_SHARE * base]
    material.sort(key=lambda s: (s.winner_low == winner and s.winner_high == winner, -s.swing_usd, s.input))
    return material


def monte_carlo(ev: "Evaluation", samples: int, seed: int) -> list[Chance]:
    """Each candidate's share of first places and TCO percentiles over `samples` joint draws of every range."""
    outcome = draws(ev.run, samples, seed).outcome
    counts = np.bincount(outcome.winner, minlength=len(IDS))
    pct = np.percentile(outcome.tco, [10, 50, 90], axis=1)
    out = [Chance(id=c.id, label=c.label, probability=float(counts[i]) / samples, tco_p10=float(pct[0, i]),
                  tco_p50=float(pct[1, i]), tco_p90=float(pct[2, i])) for i, c in enumerate(CANDIDATES)]
    out.sort(key=lambda c: (-c.probability, c.tco_p50, c.id))
    return out


def share_line(winner: str, probability: float, samples: int) -> str:
    """"prompt+rag@api wins in 87 % of 10,000 scenarios" — never rounded up to 100 % or down to 0 %."""
    p = probability * 100
    shown = f"{p:.1f}" if (0 < p < 0.5 or 99.5 <= p < 100) else f"{p:.0f}"
    return f"{winner} wins in {shown} % of {samples:,} scenarios"


def analyse(ev: "Evaluation", *, samples: int | None = None, seed: int | None = None) -> Sensitivity:
    """Tornado, flip points and Monte Carlo for an evaluated profile (`advisor sensitivity`)."""
    samples = DEFAULT_SAMPLES if samples is None else samples
    seed = DEFAULT_SEED if seed is None else seed
    if not 1 <= samples <= MAX_SAMPLES:
        raise InputError(f"--samples: must be between 1 and {MAX_SAMPLES:,} (got {samples})")
    if not 0 <= seed < 2**63:
        raise InputError(f"--seed: must be a whole number from 0 to 2^63 − 1 (got {seed})")
    o = ev.run.winners
    winner = ev.summary.recommendation
    top = [IDS[i] for i in o.order[:, 0].tolist() if o.eligible[i, 0]][:TOP] or [winner]
    inputs = ranges(ev)
    viable = {r.id for r in ev.decision.ranking if r.eligible}
    # Candidates ruled out for this profile are treated alike in every report: listed only if they win a draw.
    chances = [c for c in monte_carlo(ev, samples, seed) if c.probability > 0 or c.id in viable]
    share = next(c.probability for c in chances if c.id == winner)
    return Sensitivity(project=ev.profile.project.name, winner=winner, samples=samples, seed=seed,
                       robustness=share_line(winner, share, samples), ranges=inputs,
                       tornado=tornado(ev, inputs, winner, top), flips=ev.changes, monte_carlo=chances)
