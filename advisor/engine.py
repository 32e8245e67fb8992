"""Scoring and ranking: apply the rules to every priced candidate of every scenario, add the cost term, rank.

Score = the points of every rule that fired + the cost term, max(−cost_cap, cost_weight × −log2(TCO ÷ cheapest eligible
TCO)): a candidate twice as expensive as the cheapest eligible one loses `cost_weight` points (10 in
`rules/ruleset.toml`). The cap (40, i.e. 16× the cheapest) stops a ratio from outvoting every rule: whether a far
dearer path is affordable is the budget rules' question, and they veto or penalise it on the profile's own budget.
Ranking: eligible candidates by score, then lower TCO, then id; vetoed candidates after them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .candidates import Candidate, all_candidates
from .cost_model import CostModel, Figures
from .frame import Array, Frame
from .rules import Rule, RuleSet

CANDIDATES = all_candidates()
IDS = tuple(c.id for c in CANDIDATES)
_ID_RANK = np.argsort(np.argsort(np.array(IDS)))  # each candidate's place in id order: ranking's last tie-break


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
class Outcome:
    """Every candidate (rows, in `CANDIDATES` order) in every scenario (columns) of a frame.

    Candidates left unpriced (see `score`) hold NaN TCO and score and are never eligible."""

    tco: Array
    score: Array
    cost_points: Array
    eligible: Array
    order: Array  # candidate indices per scenario, best first
    fired: dict[Candidate, list[tuple[Rule, Array]]]  # every applying rule and where it fired (kept on request;
    # an array that broadcasts to the scenarios)

    @property
    def winner(self) -> Array:
        return np.asarray(self.order[0])

    def winners(self) -> list[str]:
        return [IDS[i] for i in self.winner.tolist()]

    def verdict(self, j: int) -> tuple[int, int | None, float | None]:
        """Scenario j's (winner, the best other eligible candidate, the winner's margin in points when both are
        eligible)."""
        order = self.order[:, j].tolist()
        top = order[0]
        runner = next((i for i in order[1:] if self.eligible[i, j]), None)
        margin = None
        if runner is not None and self.eligible[top, j]:
            margin = float(np.round(self.score[top, j] - self.score[runner, j], 6)) + 0.0
        return top, runner, margin


def confidence(margin: float | None) -> str:
    if margin is None or margin >= 15:
        return "high"
    return "medium" if margin >= 5 else "low"


def score(frame: Frame, costs: CostModel, rules: RuleSet, labels: Any = None, *, prune: bool = True,
          keep_fired: bool = False) -> Outcome:
    """Vetoes, points and the cost term of every candidate in every scenario, and the ranking.

    With `prune`, a candidate that a rule reading only the profile vetoes in every scenario is left unpriced: it
    can neither win nor move the cheapest eligible TCO that scores the others, so no winner, runner-up or margin
    changes — unless some scenario would then have no eligible candidate, when every candidate is priced.
    `labels(c)`: the candidate's model label per scenario, for rules that read `candidate.model`.
    """
    n = frame.n
    base = frame.columns
    once = {r.id: r.fires(base) for r in rules.profile_rules}
    open_ = CANDIDATES
    if prune:
        def vetoed_everywhere(c: Candidate) -> bool:
            veto = np.zeros(n, dtype=bool)
            for r in rules.shapes[c].once:
                if r.spec.veto:
                    veto = veto | once[r.id]
            return bool(veto.all())

        open_ = tuple(c for c in CANDIDATES if not vetoed_everywhere(c))
    outcome = _score(frame, costs, rules, once, open_, labels, keep_fired)
    if prune and len(open_) < len(CANDIDATES) and not outcome.eligible.any(axis=0).all():
        outcome = _score(frame, costs, rules, once, CANDIDATES, labels, keep_fired)
    return outcome


def _score(frame: Frame, costs: CostModel, rules: RuleSet, once: dict[str, Array], open_: tuple[Candidate, ...],
           labels: Any, keep_fired: bool) -> Outcome:
    n = frame.n
    reads_model = any("candidate.model" in c.paths for r in rules.rules for _, c in r.clauses())
    tco = np.full((len(CANDIDATES), n), np.nan)
    points = np.full((len(CANDIDATES), n), np.nan)
    vetoed = np.ones((len(CANDIDATES), n), dtype=bool)
    fired_by: dict[Candidate, list[tuple[Rule, Array]]] = {}
    for i, c in enumerate(CANDIDATES):
        if c not in open_:
            continue
        figures = costs.figures(c)
        shape = rules.shapes[c]
        ctx = candidate_context(frame.columns, c, figures, labels(c) if reads_model and labels else None) \
            if shape.each else frame.columns
        veto, total = np.zeros(n, dtype=bool), np.zeros(n)
        kept: list[tuple[Rule, Array]] = []
        for rule in shape.once + shape.each:  # vetoes are listed in this order
            fired = rule.fires(ctx) if rule.per_candidate else once[rule.id]
            if rule.spec.veto:
                veto = veto | fired
            else:
                total = total + np.where(fired, rule.spec.points, 0.0)
            if keep_fired:
                kept.append((rule, fired))
        tco[i], points[i], vetoed[i] = figures.cost["tco_usd"], total, veto
        if keep_fired:
            fired_by[c] = kept
    eligible = ~vetoed
    policy = rules.policy
    with np.errstate(divide="ignore", invalid="ignore"):
        cheapest = np.where(eligible & (tco > 0), tco, np.inf).min(axis=0)
        has = np.isfinite(cheapest) & (tco > 0)
        raw = np.where(has, np.maximum(-policy.cost_cap, -policy.cost_weight * np.log2(
            tco / np.where(np.isfinite(cheapest), cheapest, 1))), 0.0)
    cost_points = np.round(raw, 6) + 0.0
    scores = np.round(points + raw, 6) + 0.0
    unpriced = np.isnan(tco)
    order = np.lexsort((np.broadcast_to(_ID_RANK[:, None], tco.shape), np.where(unpriced, np.inf, tco),
                        np.where(unpriced, np.inf, -scores), vetoed), axis=0)
    return Outcome(tco=tco, score=scores, cost_points=cost_points, eligible=eligible, order=order, fired=fired_by)
