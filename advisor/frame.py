"""Scenarios as columns: the one representation every stage of a run computes on.

A frame holds every scalar profile field by its path (`usage.requests_per_day`) as a numpy array with one value per
scenario, or a 0-d array when every scenario shares the value (numpy broadcasts it). One profile is a frame of one
scenario; a batch chunk is a frame of many profiles; Monte Carlo draws and flip-point searches vary a few columns of
one profile's frame. So the cost model, the rules and the ranking are written once, over arrays, and serve all of
them alike.

Numbers and yes/no fields are float64 (yes = 1, no = 0) with NaN for a value the profile leaves unknown; enums and
other text are object arrays of `str`, with None for unknown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .schema import BOOL, NUMBER, Eval, Kind, Profile, Range, profile_fields

Array = npt.NDArray[Any]

# Facts derived from the profile's list of measured evals (best score per approach), read by rules as `evals.*`.
EVAL_FACTS: dict[str, Kind] = {"evals.prompt": NUMBER, "evals.rag": NUMBER, "evals.fine_tune": NUMBER,
                               "evals.baseline": NUMBER, "evals.has_baseline": BOOL}


def column(values: Sequence[Any], kind: Kind) -> Array:
    """One field's values across scenarios: a 0-d array when they are all the same, else one per scenario."""
    first = values[0]
    same = all(v == first and type(v) is type(first) for v in values)
    if kind.name == "str":
        return np.array(first, dtype=object) if same else np.array(list(values), dtype=object)
    cells = [first] if same else values
    out = np.array([np.nan if v is None else float(v) for v in cells], dtype=float)
    return out.reshape(()) if same else out


def _eval_facts(p: Profile) -> dict[str, float | None]:
    best: dict[str, float] = {}
    for e in p.quality.evals:
        best[e.approach] = max(best.get(e.approach, 0.0), e.score)
    baseline = max([best[k] for k in ("prompt", "rag") if k in best], default=None)
    return {"evals.prompt": best.get("prompt"), "evals.rag": best.get("rag"), "evals.fine_tune": best.get("fine_tune"),
            "evals.baseline": baseline, "evals.has_baseline": baseline is not None}


class Frame:
    """The inputs of `n` scenarios, column by column (see the module docstring)."""

    __slots__ = ("columns", "eval_group", "evals", "n", "ranges")

    def __init__(self, columns: dict[str, Array], n: int, evals: tuple[tuple[Eval, ...], ...], eval_group: Array,
                 ranges: tuple[Mapping[str, Range], ...]):
        self.columns = columns
        self.n = n
        # The distinct lists of measured evals, and which one each scenario has (0-d when all share one); each
        # scenario's profile's uncertainty ranges (one entry when all share them).
        self.evals = evals
        self.eval_group = eval_group
        self.ranges = ranges

    def evals_of(self, j: int) -> tuple[Eval, ...]:
        return self.evals[int(self.eval_group if self.eval_group.ndim == 0 else self.eval_group[j])]

    def ranges_of(self, j: int) -> Mapping[str, Range]:
        return self.ranges[j if len(self.ranges) > 1 else 0]

    def repeat(self, times: int) -> Frame:
        """Each scenario `times` times in a row (scenario j becomes j·times … j·times + times − 1)."""
        columns = {k: v if v.ndim == 0 else np.repeat(v, times) for k, v in self.columns.items()}

        def spread(per: tuple[Any, ...]) -> tuple[Any, ...]:
            return per if len(per) == 1 else tuple(x for x in per for _ in range(times))
        group = self.eval_group if self.eval_group.ndim == 0 else np.repeat(self.eval_group, times)
        return Frame(columns, self.n * times, self.evals, group, spread(self.ranges))

    @classmethod
    def of(cls, profiles: Sequence[Profile]) -> Frame:
        """The frame of one or more validated profiles, one scenario each."""
        columns: dict[str, Array] = {}
        for path, kind in profile_fields().items():
            names = path.split(".")
            values = []
            for p in profiles:
                value: Any = p
                for name in names:
                    value = getattr(value, name)
                values.append(value)
            columns[path] = column(values, kind)
        facts = [_eval_facts(p) for p in profiles]
        for path, kind in EVAL_FACTS.items():
            columns[path] = column([f[path] for f in facts], kind)
        each = [tuple(p.quality.evals) for p in profiles]
        distinct = list(dict.fromkeys(each))
        group = np.array([distinct.index(e) for e in each]) if len(distinct) > 1 else np.asarray(0)
        ranges = tuple(p.uncertainty for p in profiles)
        return cls(columns, len(profiles), tuple(distinct), group,
                   ranges if any(r != ranges[0] for r in ranges) else ranges[:1])

    def vary(self, values: Mapping[str, Array]) -> Frame:
        """This frame with some columns replaced: `values` maps field paths to arrays of equal length, one element
        per scenario of the new frame (the other columns must be 0-d or of that length)."""
        n = max((np.size(v) for v in values.values()), default=self.n)
        columns = dict(self.columns)
        for path, value in values.items():
            if path not in columns:
                raise KeyError(f"no such field {path!r}")
            columns[path] = np.asarray(value, dtype=object if columns[path].dtype == object else float)
        return Frame(columns, n, self.evals, self.eval_group, self.ranges)

    def take(self, scenarios: Array) -> Frame:
        """The frame of the given scenarios only, in that order."""
        columns = {k: v if v.ndim == 0 else v[scenarios] for k, v in self.columns.items()}
        group = self.eval_group if self.eval_group.ndim == 0 else self.eval_group[scenarios]
        ranges = self.ranges if len(self.ranges) == 1 else tuple(self.ranges[j] for j in scenarios.tolist())
        return Frame(columns, len(scenarios), self.evals, group, ranges)

    def __getitem__(self, path: str) -> Array:
        return self.columns[path]

    def first(self, path: str) -> Any:
        """The first scenario's value of a field, as a plain Python value (None when unknown)."""
        value = self.columns[path].flat[0]
        if isinstance(value, float) and value != value:
            return None
        return value.item() if isinstance(value, np.generic) else value

    def equals(self, path: str, value: str) -> Array:
        """Whether a text field holds `value`, per scenario (an enum's allowed values are checked by the caller)."""
        return np.asarray(np.equal(self.columns[path], value), dtype=bool)
