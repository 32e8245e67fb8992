"""Many variants of one profile, decided at once: the engine behind Monte Carlo, tornado and flip-point searches.

A scenario set is the base profile with some numeric inputs replaced by numpy arrays (one element per scenario).
The cost model runs once over the arrays (`costs.Vector`), every rule is evaluated once per candidate over the
arrays (`Rule.fires_vector`), and ranking follows `engine._rank` exactly — vetoes, points, the capped cost term,
then lower TCO, then id — so each scenario's winner is the one `advisor decide` gives for that profile, which the
tests check scenario by scenario.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .candidates import all_candidates
from .catalog import Catalog, load_catalog, resolve
from .costs import CostModel, Vector
from .engine import candidate_context, profile_context
from .rules import Rule, RuleSet, load_rules
from .schema import Profile

CANDIDATES = all_candidates()
IDS = tuple(c.id for c in CANDIDATES)
_BY_ID = np.argsort(np.array(IDS))  # ranking's last tie-break is the id
NUMERIC = ("usage", "data", "latency", "quality", "team", "budget", "preferences", "assumptions")


@dataclass(frozen=True)
class Outcome:
    """Per candidate (rows, in `IDS` order) and scenario (columns): TCO, score, eligibility; and each winner."""

    tco: np.ndarray
    score: np.ndarray
    eligible: np.ndarray
    winner: np.ndarray  # index into IDS, one per scenario

    def winners(self) -> list[str]:
        return [IDS[i] for i in self.winner.tolist()]


def with_values(profile: Profile, values: dict[str, Any], catalog: Catalog,
                shown: dict[str, Any] | None = None) -> tuple[Profile, Any]:
    """(profile, resolved assumptions) with each `section.field` in `values` set to its array, unvalidated: the
    values come from validated ranges or from steps a search takes inside a field's bounds. `shown` overrides what
    the profile itself says for a path (NaN = left empty) where that differs from the value the cost model uses: an
    assumption the profile leaves to the catalog in some scenarios."""
    def by_section(paths: dict[str, Any]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for path, value in paths.items():
            section, name = path.split(".", 1)
            out.setdefault(section, {})[name] = value
        return out

    sections = by_section({**values, **(shown or {})})
    parts = {name: getattr(profile, name) for name in Profile.model_fields}
    for section, changes in sections.items():
        part = parts[section]
        parts[section] = type(part).model_construct(**{**dict(part), **changes})
    varied = Profile.model_construct(**parts)
    assumptions = resolve(profile, catalog)
    if overrides := by_section(values).get("assumptions"):
        assumptions = type(assumptions).model_construct(**{**dict(assumptions), **overrides})
    return varied, assumptions


def evaluate(profile: Profile, values: dict[str, Any], *, catalog: Catalog | None = None,
             rules: RuleSet | None = None, shown: dict[str, Any] | None = None, winners_only: bool = False) -> Outcome:
    """Decide every scenario: `values` maps `section.field` paths to equal-length arrays (or scalars); `shown`: see
    `with_values`.

    `winners_only` leaves unpriced each candidate that a rule reading only the profile vetoes in every scenario, as
    `engine.scored` does for one profile: such a candidate can neither win nor move the cheapest eligible TCO that
    scores the others, so every winner is unchanged (a test compares) — unless some scenario would have no eligible
    candidate left, when all are priced. Unpriced rows hold NaN TCO and score and are never eligible.
    """
    catalog = catalog or load_catalog()
    rules = rules or load_rules()
    varied, assumptions = with_values(profile, values, catalog, shown)
    n = max((np.size(v) for v in values.values()), default=1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        model = CostModel(varied, catalog, assumptions=assumptions, xp=Vector())
        base = profile_context(varied)
        fired: dict[str, Any] = {}  # each profile-only rule over the scenarios, evaluated once

        def once(rule) -> Any:
            if (result := fired.get(rule.id)) is None:
                result = fired[rule.id] = rule.fires_vector(base)
            return result

        if winners_only:
            def can_win(c) -> bool:
                veto = np.zeros(n, dtype=bool)
                for rule in rules.shape(c.adaptation, c.rag, c.serving).once:
                    if rule.spec.veto:
                        veto = veto | once(rule)
                return not veto.all()

            outcome = _ranked(model, base, once, rules, n, frozenset(filter(can_win, CANDIDATES)))
            if outcome.eligible.any(axis=0).all():
                return outcome
        return _ranked(model, base, once, rules, n, None)


def _ranked(model: CostModel, base: dict[str, Any], once: Callable[[Rule], Any], rules: RuleSet, n: int,
            only: frozenset | None) -> Outcome:
    """Price the candidates (those in `only`, else all), apply their rules and rank, as `engine._rank` does.
    `once(rule)`: a profile-only rule's result, shared by every candidate. A scenario in which no priced candidate
    is eligible gets no meaningful winner here (unpriced rows are NaN): `evaluate` then prices them all."""
    tco, points = np.full((len(IDS), n), np.nan), np.full((len(IDS), n), np.nan)
    vetoed = np.ones((len(IDS), n), dtype=bool)
    for c, cost, facts in model.figures(only, by_month=False):
        i = IDS.index(c.id)
        ctx = candidate_context(base, c, cost, facts)
        veto, score = np.zeros(n, dtype=bool), np.zeros(n)
        shape = rules.shape(c.adaptation, c.rag, c.serving)
        for rule in shape.once + shape.each:
            fired = rule.fires_vector(ctx) if rule.per_candidate else once(rule)
            if rule.spec.veto:
                veto |= fired
            else:
                score += np.where(fired, rule.spec.points, 0.0)
        tco[i], points[i], vetoed[i] = cost["tco_usd"], score, veto
    eligible = ~vetoed
    cheapest = np.where(eligible & (tco > 0), tco, np.inf).min(axis=0)
    policy = rules.policy
    ratio = np.where(np.isfinite(cheapest) & (tco > 0), tco / np.where(np.isfinite(cheapest), cheapest, 1), 1)
    cost_points = np.maximum(-policy.cost_cap, -policy.cost_weight * np.log2(ratio))
    score = np.round(points + cost_points, 6) + 0.0
    # The first of engine._rank's order — eligible, then highest score, lowest TCO, id — without sorting them all.
    pool = eligible | ~eligible.any(axis=0)
    pool &= score == np.where(pool, score, -np.inf).max(axis=0)
    pool &= tco == np.where(pool, tco, np.inf).min(axis=0)
    return Outcome(tco=tco, score=score, eligible=eligible, winner=_BY_ID[pool[_BY_ID].argmax(axis=0)])
