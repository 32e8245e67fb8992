"""Judging and ranking (DESIGN §11): every priced candidate of every scenario is judged on separate criteria.

- Must-haves veto: the veto rules (residency, offline, where inference runs, latency, budget, training data), and a
  quality fit of `fails`.
- Quality: the first quality-fit rule that fires (in file order) sets the candidate's fit; no rule, `uncertain`.
  Each fit is worth the points in `[ruleset.fit_points]`.
- Cost, speed, control: the points of the rules that fire, each rule naming its criterion; cost also gets one term
  from total cost of ownership, max(−cost_cap, −cost_weight × log2(TCO ÷ cheapest viable TCO)), at most 0.
- Every criterion is weighted (`[ruleset.weights]`, overridden by the profile's `preferences.priorities`); the
  score is their sum, and every point is attributed to a criterion and a rule.

Ranking: viable candidates (no veto) by score, then lower TCO, then id; the others after them, fewest failed
must-haves first — the first of them is the closest path when nothing is viable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .candidates import Candidate, all_candidates
from .cost_model import CostModel, Figures
from .frame import Array, Frame
from .rules import CRITERIA, FIT_LEVELS, Criterion, Rule, RuleSet

CANDIDATES = all_candidates()
IDS = tuple(c.id for c in CANDIDATES)
_ID_RANK = np.argsort(np.argsort(np.array(IDS)))  # each candidate's place in id order: ranking's last tie-break
FAILS, UNCERTAIN = FIT_LEVELS.index("fails"), FIT_LEVELS.index("uncertain")
COST_TERM = "total-cost"  # the rule id the scoring policy's cost term is reported under


def candidate_context(base: dict[str, Array], c: Candidate, figures: Figures, model: Array | None = None
                      ) -> dict[str, Any]:
    """`base` (the frame's columns) plus every computed field of the candidate that a clause may read."""
    ctx: dict[str, Any] = dict(base)
    ctx.update({f"cost.{k}": v for k, v in figures.cost.items()})
    ctx.update({f"candidate.{k}": v for k, v in figures.facts.items()})
    ctx.update({"candidate.adaptation": np.array(c.adaptation, dtype=object), "candidate.rag": np.asarray(c.rag),
                "candidate.serving": np.array(c.serving, dtype=object),
                "candidate.api_twin": np.array(c.api_twin.id if c.serving == "self-host" else None, dtype=object),
                "candidate.model": model if model is not None else np.array(None, dtype=object)})
    return ctx


@dataclass(frozen=True)
class Fired:
    """A rule that applies to a candidate, where it fired and the (weighted) points it gave there."""

    rule: Rule
    where: Array
    points: Array


@dataclass(frozen=True)
class Outcome:
    """Every candidate (rows, in `CANDIDATES` order) in every scenario (columns) of a frame.

    Candidates left unpriced (see `score`) hold NaN TCO and score and are never eligible."""

    tco: Array
    score: Array
    criteria: dict[Criterion, Array]
    cost_points: Array  # the cost term, weighted (part of criteria["cost"])
    fit: Array  # index into FIT_LEVELS
    vetoes: Array  # how many must-haves each candidate fails
    order: Array  # candidate indices per scenario, best first
    fired: dict[Candidate, list[Fired]]  # kept on request

    def spliced(self, scenarios: Array, other: Outcome) -> Outcome:
        """This outcome with the given scenarios' columns taken from `other` (an outcome of those scenarios alone:
        each scenario is judged on its own, so its column does not depend on the others)."""
        def put(mine: Array, theirs: Array) -> Array:
            out = mine.copy()
            out[:, scenarios] = theirs
            return out

        return Outcome(tco=put(self.tco, other.tco), score=put(self.score, other.score),
                       criteria={c: put(v, other.criteria[c]) for c, v in self.criteria.items()},
                       cost_points=put(self.cost_points, other.cost_points), fit=put(self.fit, other.fit),
                       vetoes=put(self.vetoes, other.vetoes), order=put(self.order, other.order), fired=self.fired)

    @property
    def eligible(self) -> Array:
        return np.asarray(self.vetoes == 0)

    @property
    def winner(self) -> Array:
        return np.asarray(self.order[0])

    def winners(self) -> list[str]:
        return [IDS[i] for i in self.winner.tolist()]

    def viable(self) -> Array:
        """Per scenario: whether the winner passes every must-have."""
        return np.asarray(self.eligible[self.winner, np.arange(self.order.shape[1])])

    def verdict(self, j: int) -> tuple[int, int | None, float | None]:
        """Scenario j's (winner, the best other viable candidate, the winner's margin in points when both are
        viable)."""
        order = self.order[:, j].tolist()
        top = order[0]
        runner = next((i for i in order[1:] if self.eligible[i, j]), None)
        margin = None
        if runner is not None and self.eligible[top, j]:
            margin = float(np.round(self.score[top, j] - self.score[runner, j], 6)) + 0.0
        return top, runner, margin


def weights(frame: Frame, rules: RuleSet) -> dict[Criterion, Array]:
    """Each criterion's weight per scenario: the profile's priority where it states one, else the rule set's."""
    default = rules.policy.weights
    out: dict[Criterion, Array] = {}
    for criterion in CRITERIA:
        stated = frame[f"preferences.priorities.{criterion}"]
        out[criterion] = np.where(np.isnan(stated), getattr(default, criterion), stated)
    return out


# A clause's arithmetic can overflow to inf or meet 0/0 in an extreme scenario; the three-valued rules judge the result,
# so numpy's warning about it is noise.
@np.errstate(over="ignore", invalid="ignore")
def score(frame: Frame, costs: CostModel, rules: RuleSet, labels: Any = None, *, keep_fired: bool = False,
          unpruned: Callable[[Array], Outcome] | None = None) -> Outcome:
    """Judge and rank every candidate in every scenario.

    Given `unpruned` (an unpruned outcome of some of the frame's scenarios alone), a candidate that a rule reading
    only the profile vetoes in every scenario is left unpriced: it can neither be viable nor move the cheapest viable
    TCO that scores the others, so no winner, runner-up or margin changes — except in a scenario that then has no
    viable candidate, where the order of the vetoed ones matters: those scenarios are priced in full by `unpruned`
    (all of them: by this frame again). `labels(c)`: the candidate's model label per scenario, for rules that read
    `candidate.model`.
    """
    n = frame.n
    base = frame.columns
    once = {r.id: r.fires(base) for r in rules.profile_rules}
    if unpruned is None:
        return _score(frame, costs, rules, once, CANDIDATES, labels, keep_fired)

    def vetoed_everywhere(c: Candidate) -> bool:
        veto = np.zeros(n, dtype=bool)
        for r in rules.shapes[c].once:
            if r.spec.veto:
                veto = veto | once[r.id]
        return bool(veto.all())

    open_ = tuple(c for c in CANDIDATES if not vetoed_everywhere(c))
    outcome = _score(frame, costs, rules, once, open_, labels, keep_fired)
    lost = np.flatnonzero(~outcome.eligible.any(axis=0) & (len(open_) < len(CANDIDATES)))
    if len(lost) == n:
        return _score(frame, costs, rules, once, CANDIDATES, labels, keep_fired)
    return outcome.spliced(lost, unpruned(lost)) if len(lost) else outcome


def _score(frame: Frame, costs: CostModel, rules: RuleSet, once: dict[str, Array], open_: tuple[Candidate, ...],
           labels: Any, keep_fired: bool) -> Outcome:
    n = frame.n
    shape2 = (len(CANDIDATES), n)
    policy = rules.policy
    w = weights(frame, rules)
    fit_points = np.array([getattr(policy.fit_points, level, 0.0) for level in FIT_LEVELS])
    reads_model = any("candidate.model" in c.paths for r in rules.rules for _, c in r.clauses())
    tco = np.full(shape2, np.nan)
    criteria: dict[Criterion, Array] = {c: np.zeros(shape2) for c in CRITERIA}
    fit = np.full(shape2, UNCERTAIN)
    vetoes = np.full(shape2, len(rules.rules) + 1)  # unpriced: after every priced candidate
    fired_by: dict[Candidate, list[Fired]] = {}
    for i, c in enumerate(CANDIDATES):
        if c not in open_:
            continue
        figures = costs.figures(c)
        shape = rules.shapes[c]
        ctx = candidate_context(frame.columns, c, figures, labels(c) if reads_model and labels else None) \
            if shape.each else frame.columns
        failed, level = np.zeros(n, dtype=int), np.full(n, -1)
        kept: list[Fired] = []
        for rule in shape.once + shape.each + shape.fits:  # quality fits last, in file order: the first decides
            where = rule.fires(ctx) if rule.per_candidate else once[rule.id]
            points = np.asarray(0.0)
            if rule.spec.veto:
                failed = failed + where
            elif rule.spec.fit is not None:
                level = np.where((level < 0) & where, FIT_LEVELS.index(rule.spec.fit), level)
            else:
                criterion = rule.spec.criterion
                assert criterion is not None
                points = np.where(where, rule.points(ctx) * w[criterion], 0.0)
                criteria[criterion][i] += points
            if keep_fired:
                kept.append(Fired(rule, where, points))
        level = np.where(level < 0, UNCERTAIN, level)
        fit[i] = level
        criteria["quality"][i] += np.where(level == FAILS, 0.0, fit_points[level] * w["quality"])
        vetoes[i] = failed + (level == FAILS)
        tco[i] = figures.cost["tco_usd"]
        if keep_fired:
            fired_by[c] = kept
    eligible = vetoes == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        # Against the cheapest viable path (the cheapest of all when none is viable); a non-viable path cheaper
        # than that earns nothing for it.
        cheapest = np.where(eligible & (tco > 0), tco, np.inf).min(axis=0)
        cheapest = np.where(np.isfinite(cheapest), cheapest, np.where(tco > 0, tco, np.inf).min(axis=0))
        has = np.isfinite(cheapest) & (tco > 0)
        raw = np.where(has, np.clip(-policy.cost_weight * np.log2(tco / np.where(np.isfinite(cheapest), cheapest, 1)),
                                    -policy.cost_cap, 0.0), 0.0)
    cost_points = np.round(raw * w["cost"], 6) + 0.0
    criteria["cost"] += raw * w["cost"]
    criteria = {c: np.round(v, 6) + 0.0 for c, v in criteria.items()}
    unpriced = np.isnan(tco)
    scores = np.where(unpriced, np.nan, np.round(sum(criteria.values()), 6) + 0.0)
    order = np.lexsort((np.broadcast_to(_ID_RANK[:, None], shape2), np.where(unpriced, np.inf, tco),
                        np.where(unpriced, np.inf, -scores), vetoes), axis=0)
    return Outcome(tco=tco, score=scores, criteria=criteria, cost_points=cost_points, fit=fit, vetoes=vetoes,
                   order=order, fired=fired_by)
