"""The decision: price every candidate, apply the rules (vetoes, then points), add the cost term, rank.

Score = the points of every rule that fired + the cost term, max(−cost_cap, cost_weight × −log2(TCO ÷ cheapest eligible
TCO)): a candidate twice as expensive as the cheapest eligible one loses `cost_weight` points (10 in
`rules/ruleset.toml`). The cap (40, i.e. 16× the cheapest) stops a ratio from outvoting every rule: whether a far
dearer path is affordable is the budget rules' question, and they veto or penalise it on the profile's own budget.
Ranking: eligible candidates by score, then lower TCO, then id; vetoed candidates after them.
"""

import math
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from . import __version__
from .candidates import Candidate, all_candidates, parse
from .catalog import Catalog, Used
from .costs import Cost, CostModel, Facts
from .io import load_profile
from .rules import Reason, Rule, RuleSet, Veto, load_rules
from .schema import Profile


LABELS = {c.id: c.label for c in all_candidates()}


class Ranked(BaseModel):
    id: str
    adaptation: str
    retrieval: str
    serving: str
    label: str
    eligible: bool
    vetoes: list[Veto]
    score: float
    reasons: list[Reason]
    cost_points: float
    cost: Cost
    facts: Facts


class Recommendation(BaseModel):
    id: str
    adaptation: str
    retrieval: str
    serving: str
    label: str
    score: float
    confidence: str
    margin: float | None
    summary: str


class RulesetInfo(BaseModel):
    version: str
    digest: str


class Decision(BaseModel):
    """The decision JSON (DESIGN §5). It carries its validated profile so a memo can be rendered from it alone."""

    schema_version: int = 1
    project: str
    recommendation: Recommendation
    ranking: list[Ranked]
    assumptions: list[Used]
    ruleset: RulesetInfo
    advisor_version: str
    warnings: list[str]
    profile: Profile


_KEYS = {section: {name: f"{section}.{name}" for name in info.annotation.model_fields}
         for section, info in Profile.model_fields.items() if hasattr(info.annotation, "model_fields")}


def profile_context(profile: Profile) -> dict[str, Any]:
    """The flat `section.field` view of a profile that clauses read, plus derived eval facts."""
    ctx: dict[str, Any] = {}
    for section, keys in _KEYS.items():
        for name, value in vars(getattr(profile, section)).items():  # the fields (faster than iterating the model)
            ctx[keys[name]] = value
    best: dict[str, float] = {}
    for e in profile.quality.evals:
        best[e.approach] = max(best.get(e.approach, 0.0), e.score)
    baseline = max([best[k] for k in ("prompt", "rag") if k in best], default=None)
    ctx.update({"evals.prompt": best.get("prompt"), "evals.rag": best.get("rag"),
                "evals.fine_tune": best.get("fine_tune"), "evals.baseline": baseline,
                "evals.has_baseline": baseline is not None})
    return ctx


Figures = tuple[Candidate, dict[str, Any], dict[str, Any]]  # a candidate, its cost and facts (costs.figures)


def candidate_context(base: dict[str, Any], c: Candidate, cost: dict[str, Any], facts: dict[str, Any]
                      ) -> dict[str, Any]:
    """`base` plus every computed field of the candidate that a clause may read."""
    ctx = dict(base)
    for path, get in _FIELD_OF.items():
        ctx[path] = get(c, cost, facts)
    return ctx


def _fields() -> dict[str, Any]:
    """How to read each `candidate.*` / `cost.*` path from a candidate and its figures."""
    out: dict[str, Any] = {f"candidate.{k}": (lambda c, cost, facts, k=k: facts[k]) for k in Facts.model_fields}
    out.update({f"cost.{k}": (lambda c, cost, facts, k=k: cost[k]) for k in Cost.model_fields if k != "monthly_usd"})
    out.update({"candidate.adaptation": lambda c, cost, facts: c.adaptation,
                "candidate.rag": lambda c, cost, facts: c.rag,
                "candidate.serving": lambda c, cost, facts: c.serving})
    return out


_FIELD_OF = _fields()


def _evaluate(profile, catalog: Catalog | None, rules: RuleSet | None):
    """Shared by decide and explain: (profile, rules, cost model, profile context, every candidate's figures)."""
    profile = load_profile(profile)
    rules = rules or load_rules()
    model = CostModel(profile, catalog)
    return profile, rules, model, profile_context(profile), model.figures()


def _confidence(margin: float | None) -> str:
    if margin is None or margin >= 15:
        return "high"
    return "medium" if margin >= 5 else "low"


@dataclass(slots=True)
class _Scored:
    candidate: Candidate
    cost: dict[str, Any]
    facts: dict[str, Any]
    vetoes: list[Veto]
    reasons: list[Reason]
    cost_points: float
    score: float

    @property
    def eligible(self) -> bool:
        return not self.vetoes

    @property
    def id(self) -> str:
        return self.candidate.id


def _rank(rules: RuleSet, figures: list[Figures], base: dict[str, Any], fired: list[Rule] | None = None
          ) -> list[_Scored]:
    """Vetoes, points and the cost term for every candidate, best first (the hot loop of batch and flip searches;
    plain values only — `decide` turns the result into the Decision's models). `fired`: the profile-only rules
    that fire, when already known."""
    # Rules that read only the profile give the same answer for every candidate: evaluate each once.
    if fired is None:
        fired = [r for r in rules.profile_rules if r.fires(base)]
    ctx: dict[str, Any] = {}
    evaluated = []
    for c, cost, facts in figures:
        shape = rules.shape(c.adaptation, c.rag, c.serving)
        hits = [r for r in fired if id(r) in shape.once_ids]
        if shape.each:
            if not ctx:
                ctx = dict(base)
            for path in shape.reads:  # only what this shape's rules read
                ctx[path] = _FIELD_OF[path](c, cost, facts)
            hits += [r for r in shape.each if r.fires(ctx)]
        vetoes = [r.effect for r in hits if r.spec.veto]
        reasons = [r.effect for r in hits if not r.spec.veto]  # in file order; `decide` sorts them for reading
        evaluated.append((c, cost, facts, vetoes, reasons))

    cheapest = min((cost["tco_usd"] for _, cost, _, vetoes, _ in evaluated if not vetoes and cost["tco_usd"] > 0),
                   default=None)
    cap, weight = rules.policy.cost_cap, rules.policy.cost_weight
    ranked = []
    for c, cost, facts, vetoes, reasons in evaluated:
        cost_points = 0.0
        if cheapest and cost["tco_usd"] > 0:
            cost_points = max(-cap, -weight * math.log2(cost["tco_usd"] / cheapest))
        score = math.fsum(r.points for r in reasons) + cost_points  # exact: independent of the reasons' order
        ranked.append(_Scored(c, cost, facts, vetoes, reasons, round(cost_points, 6) + 0.0, round(score, 6) + 0.0))
    ranked.sort(key=lambda r: (bool(r.vetoes), -r.score, r.cost["tco_usd"], r.candidate.id))
    return ranked


def winner(profile: Profile | dict | str, *, catalog: Catalog | None = None, rules: RuleSet | None = None,
           figures: list[Figures] | None = None) -> str:
    """Only the winning candidate's id: what sensitivity searches need, without building the whole Decision.
    `figures` reuses an earlier pricing when the change being tried cannot affect costs (budget, residency)."""
    if figures is None:
        profile, rules, _, base, figures = _evaluate(profile, catalog, rules)
    else:
        profile, rules = load_profile(profile), rules or load_rules()
        base = profile_context(profile)
    return _rank(rules, figures, base)[0].candidate.id


ALL_VETOED = "every candidate is vetoed; the least-bad one is shown — revisit the constraints"


def verdict(ranked: list[_Scored]) -> tuple[_Scored, _Scored | None, float | None]:
    """(winner, the best other eligible candidate, the winner's margin in points when both are eligible)."""
    top = ranked[0]
    runner = next((r for r in ranked[1:] if r.eligible), None)
    return top, runner, round(top.score - runner.score, 6) if runner and top.eligible else None


def scored(profile: Profile | dict | str, *, catalog: Catalog | None = None,
           rules: RuleSet | None = None) -> tuple[Profile, list[_Scored]]:
    """The ranking of the candidates that can win, without the Decision's models: what `advisor batch` summarises.

    A candidate vetoed by a rule that reads only the profile is ineligible whatever it costs, and an eligible
    candidate's score depends only on its own rules and the cheapest *eligible* TCO — so leaving such candidates
    unpriced changes neither the winner, the runner-up, the margin nor the eligible count (a test compares 10,000
    profiles with `decide`). Only when every candidate is vetoed does the order among vetoed ones matter: then all
    are priced. Typically more than half the candidates are ruled out this way, which halves the work.
    """
    profile = load_profile(profile)
    rules = rules or load_rules()
    model = CostModel(profile, catalog)
    base = profile_context(profile)
    fired = [r for r in rules.profile_rules if r.fires(base)]
    vetoing = frozenset(id(r) for r in fired if r.spec.veto)
    open_ = frozenset(c for c in all_candidates()
                      if not vetoing & rules.shape(c.adaptation, c.rag, c.serving).once_ids)
    if open_:
        ranked = _rank(rules, model.figures(open_, by_month=False), base, fired)
        if ranked[0].eligible:
            return profile, ranked
    return profile, _rank(rules, model.figures(by_month=False), base, fired)


def decide(profile: Profile | dict | str, *, catalog: Catalog | None = None, rules: RuleSet | None = None) -> Decision:
    """Price, score and rank every candidate path for `profile` (a Profile, a dict, or a JSON file path)."""
    profile, rules, model, base, figures = _evaluate(profile, catalog, rules)
    ranking = _rank(rules, figures, base)
    _, _, margin = verdict(ranking)
    ranked = [Ranked(id=s.candidate.id, adaptation=s.candidate.adaptation, retrieval=s.candidate.retrieval,
                     serving=s.candidate.serving, label=LABELS[s.candidate.id], eligible=s.eligible, vetoes=s.vetoes,
                     score=s.score, reasons=sorted(s.reasons, key=lambda x: (-abs(x.points), x.rule)),
                     cost_points=s.cost_points, cost=Cost(**s.cost),
                     facts=Facts(**s.facts)) for s in ranking]
    warnings = []
    top = ranked[0]
    if not top.eligible:
        warnings.append(ALL_VETOED)
    recommendation = Recommendation(
        id=top.id, adaptation=top.adaptation, retrieval=top.retrieval, serving=top.serving, label=top.label,
        score=top.score, confidence=_confidence(margin), margin=margin, summary=_summary(top, profile))
    return Decision(schema_version=1, project=profile.project.name, recommendation=recommendation, ranking=ranked,
                    assumptions=model.assumptions_used(),
                    ruleset=RulesetInfo(version=rules.version, digest=rules.digest),
                    advisor_version=__version__, warnings=warnings, profile=profile)


def _summary(top: Ranked, profile: Profile) -> str:
    from .report import usd

    months = profile.preferences.horizon_months
    reason = f" Main reason: {top.reasons[0].why}" if top.reasons and top.reasons[0].points > 0 else ""
    per_request = (f", {usd(top.cost.cost_per_request_usd)} per request"
                   if top.cost.cost_per_request_usd is not None else "")
    return (f"{top.label}: {usd(top.cost.tco_usd)} over {months} months ({usd(top.cost.monthly_usd_first)}/month "
            f"at first{per_request}).{reason}")


def explain(profile: Profile | dict | str, candidate: str | None = None, *, catalog: Catalog | None = None,
            rules: RuleSet | None = None) -> list[dict[str, Any]]:
    """For each candidate (or one), every rule — fired or not — with each clause's values and result. A rule whose
    selector excludes the candidate is listed with `applies: false` (it cannot fire) and its clauses' values."""
    wanted = parse(candidate).id if candidate is not None else None
    _, rules, _, base, figures = _evaluate(profile, catalog, rules)
    out = []
    for c, cost, facts in figures:
        if wanted is not None and c.id != wanted:
            continue
        ctx = candidate_context(base, c, cost, facts)
        trace = []
        applicable = set(map(id, rules.shape(c.adaptation, c.rag, c.serving).rules))
        for r in rules.rules:
            clauses = [{"group": group, "clause": c.text, "result": c(ctx),
                        "values": {path: ctx[path] for path in c.paths}} for group, c in r.clauses()]
            applies = id(r) in applicable
            trace.append({"rule": r.id, "title": r.spec.title, "applies": applies,
                          "fired": applies and r.fires(ctx), "effect": "veto" if r.spec.veto else r.spec.points,
                          "clauses": clauses})
        out.append({"id": c.id, "rules": trace})
    return out
