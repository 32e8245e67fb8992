"""One owner per run: an `Advisor` loads a catalog and a rule set once; `Advisor.evaluate(profile)` returns an
`Evaluation` whose stages — effective assumptions, costs, fired rules, ranking, decision, trace, sensitivity, memo —
are each computed once, on first use, and shared by every view of it.

The same stages serve many scenarios at once: a `Run` prices and ranks every scenario of a frame (see `frame`), so
a batch of profiles, Monte Carlo draws and flip-point searches go through exactly the code one decision does.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from . import __version__
from .candidates import Candidate, parse
from .catalog import Catalog, Used, load_catalog, provenance
from .cost_model import (
    ApiEstimate,
    Cost,
    CostModel,
    Facts,
    LatencyEstimate,
    ServingEstimate,
    TrainingEstimate,
    estimate_api,
    estimate_latency,
    estimate_serving,
    estimate_training,
)
from .decision import (
    NOT_VIABLE,
    Criteria,
    Decision,
    LatencyFit,
    Model,
    Priced,
    QualityFit,
    Ranked,
    Recommendation,
    RulesetInfo,
    Summary,
)
from .decision import Path as PathModel
from .engine import CANDIDATES, COST_TERM, Outcome, candidate_context, score, weights
from .fmt import article, usd, value_text
from .frame import Array, Frame
from .io import load_profile
from .prices import Prices
from .rules import FIT_LEVELS, Reason, RuleSet, known_fields, load_rules
from .schema import BOOL, Assumptions, Profile, choice_label, numeric_fields
from .serving import BYTES_PER_PARAM
from .settings import Settings, effective, settings

if TYPE_CHECKING:
    from .report import Templates
    from .robustness import Change, Sensitivity


def _at(value: Array, j: int) -> Any:
    """Scenario j's value of a column, as a plain Python value (None where unknown)."""
    v = value.flat[0] if value.ndim == 0 else value[j]
    if isinstance(v, np.generic):
        v = v.item()
    return None if isinstance(v, float) and v != v else v


class Advisor:
    """Decides profiles against one catalog and one rule set (the shipped ones unless given), each loaded once,
    on first use. `catalog`: a Catalog or a TOML file layered over the shipped one; `rules`: a RuleSet, or rule
    directories (or files) loaded after the shipped rules (only them with `shipped_rules=False`)."""

    def __init__(self, catalog: Catalog | str | Path | None = None,
                 rules: RuleSet | str | Path | Sequence[str | Path] | None = None, *, shipped_rules: bool = True):
        self._catalog = catalog
        self._rules = rules
        self._shipped_rules = shipped_rules

    @cached_property
    def catalog(self) -> Catalog:
        return self._catalog if isinstance(self._catalog, Catalog) else load_catalog(self._catalog)

    @cached_property
    def rules(self) -> RuleSet:
        if isinstance(self._rules, RuleSet):
            return self._rules
        dirs = [] if self._rules is None else [self._rules] if isinstance(self._rules, (str, Path)) else self._rules
        return load_rules(*dirs, include_shipped=self._shipped_rules)

    @cached_property
    def prices(self) -> Prices:
        return Prices(self.catalog.price_timestamp)

    @cached_property
    def templates(self) -> Templates:
        from .report import Templates

        return Templates()

    def evaluate(self, profile: Profile | dict[str, Any] | str | Path) -> Evaluation:
        """A profile (validated Profile, dict or JSON file path, '-' for stdin) ready to be decided."""
        return Evaluation(self, load_profile(profile))

    def run(self, frame: Frame) -> Run:
        return Run(self, frame)

    def check(self, profile: Profile) -> None:
        """Raise the UnknownIdError a profile's GPU or model ids would raise when priced (so one bad line of a
        batch fails alone)."""
        a = profile.assumptions
        if a.gpu is not None:
            self.catalog.gpu(a.gpu)
        for tuned in (a.fine_tune_api_model, a.fine_tune_api_model_high_accuracy):
            if tuned is not None:
                self.catalog.fine_tune_prices(tuned)
        if a.device_class is not None:
            self.catalog.device(a.device_class)
        for model in (a.api_model, a.api_model_high_accuracy):
            if model is not None:
                self.prices.check(model)

    def estimate_training(self, params: float, tokens: float, gpu: str, *, mfu: float | None = None,
                          gpu_hourly_usd: float | None = None, fine_tune: bool = False) -> TrainingEstimate:
        """Training compute: FLOPs ≈ 6·N·D, GPU-hours and cost (`advisor estimate training`)."""
        return estimate_training(self.catalog, params, tokens, gpu, mfu=mfu, gpu_hourly_usd=gpu_hourly_usd,
                                 fine_tune=fine_tune)

    def estimate_serving(self, params: float, gpu: str, precision: str, *, input_tokens: int = 1000,
                         output_tokens: int = 200, gpu_hourly_usd: float | None = None,
                         concurrency: int | None = None) -> ServingEstimate:
        """Self-hosted serving: GPUs per replica, output tokens/s, latency, USD per million output tokens."""
        return estimate_serving(self.catalog, params, gpu, precision, input_tokens=input_tokens,
                                output_tokens=output_tokens, gpu_hourly_usd=gpu_hourly_usd, concurrency=concurrency)

    def estimate_api(self, model: str, input_tokens: int, output_tokens: int, cached_tokens: int = 0,
                     requests: int = 1) -> ApiEstimate:
        """Hosted-API price of `requests` requests, genai-prices' own figure (`input_tokens` includes
        `cached_tokens`)."""
        return estimate_api(self.prices, model, input_tokens, output_tokens, cached_tokens, requests)

    def estimate_latency(self, model: str, input_tokens: int, output_tokens: int) -> LatencyEstimate:
        """A hosted model's median and p95 latency for one call (`advisor estimate latency`)."""
        return estimate_latency(self.catalog, self.prices, model, input_tokens, output_tokens)

    def summaries(self, profiles: Sequence[Profile], lines: Sequence[int]) -> list[Summary]:
        """The batch summary of each profile, decided together as one frame."""
        run = self.run(Frame.of(profiles))
        return [run.summary(j, line) for j, line in enumerate(lines)]


class Run:
    """The stages of one frame, each computed once: effective assumptions, the cost model, scores and ranking."""

    def __init__(self, advisor: Advisor, frame: Frame):
        self.advisor, self.frame = advisor, frame

    @cached_property
    def values(self) -> dict[str, Array]:
        """Every effective assumption by its flat name."""
        return effective(self.frame, self.advisor.catalog)

    @cached_property
    def settings(self) -> Settings:
        return settings(self.values, self.advisor.catalog)

    @cached_property
    def costs(self) -> CostModel:
        return CostModel(self.frame, self.settings, self.advisor.catalog, self.advisor.prices)

    @cached_property
    def outcome(self) -> Outcome:
        """Every candidate priced and ranked (with the rules that fired, for one scenario)."""
        return score(self.frame, self.costs, self.advisor.rules, self.labels, keep_fired=self.frame.n == 1)

    @cached_property
    def winners(self) -> Outcome:
        """Ranked for the winners only: candidates that cannot win are left unpriced (see `engine.score`)."""
        return score(self.frame, self.costs, self.advisor.rules, self.labels,
                     unpruned=lambda scenarios: self.advisor.run(self.frame.take(scenarios)).outcome)

    def labels(self, c: Candidate) -> Array:
        """The concrete model of candidate `c` in words, per scenario."""
        return np.array([self.label(c, j) for j in range(self.frame.n)], dtype=object)

    def label(self, c: Candidate, j: int) -> str:
        s = self.settings
        if c.serving == "api":
            if c.adaptation == "fine-tune":
                return f"{_at(s.api.fine_tune_model, j)} fine-tuned (hosted)"
            return f"{_at(self.costs.api_model, j)} (hosted)"
        n = _at(np.asarray(self.costs.serving_params(c)), j)
        if c.serving == "self-host":
            replica = self.costs.replica(c)
            return (f"open {n / 1e9:g}B {_at(replica.precision, j)} on {int(_at(replica.gpus, j))} × "
                    f"{_at(s.gpu.id, j)}")
        precision = _at(s.on_device.precision, j)
        return f"on-device {n / 1e9:g}B {precision} ({n * BYTES_PER_PARAM[precision] / 1e9:.1f} GB)"

    @property
    def shares(self) -> Array:
        """Each scenario's winner's share of first place over its Monte Carlo draws (see `robustness.win_shares`)."""
        return self._shares[0]

    @cached_property
    def _shares(self) -> tuple[Array, Array]:
        from .robustness import win_shares

        def settled(j: int, low: float, high: float) -> bool:  # the confidence is the same at both ends
            return self.confidence_at(j, low) == self.confidence_at(j, high)

        shares, samples = win_shares(self, settled)
        return np.asarray(shares), np.asarray(samples)

    @property
    def share_samples(self) -> Array:
        """How many draws each scenario's win share rests on."""
        return self._shares[1]

    def fit_of(self, i: int, j: int) -> str:
        return FIT_LEVELS[int(self.winners.fit[i, j])]

    def meets_latency(self, c: Candidate, j: int) -> bool:
        return bool(_at(self.costs.figures(c).facts["latency_ms"], j) <= _at(self.frame["latency.p95_ms"], j))

    def within_budget(self, c: Candidate, j: int) -> bool:
        cost = self.costs.figures(c).cost
        return bool(_at(cost["spend_monthly_usd"], j) <= _at(self.frame["budget.monthly_usd"], j)
                    and _at(cost["spend_upfront_usd"], j) <= _at(self.frame["budget.upfront_usd"], j))

    def confidence(self, j: int) -> Literal["high", "medium", "low"]:
        """How sure scenario j's recommendation is (DESIGN §11): from the margin, the Monte Carlo win share and the
        winner's fit — never high for a winner that misses its latency target, overruns its cash budget or whose
        fit is below `likely`, and low when nothing is viable."""
        return self.confidence_at(j, float(self.shares[j]))

    def confidence_at(self, j: int, share: float) -> Literal["high", "medium", "low"]:
        """`confidence` had the winner's win share been `share`."""
        o, policy = self.winners, self.advisor.rules.policy.confidence
        top, _, margin = o.verdict(j)
        if not o.eligible[top, j]:
            return "low"
        c, fit = CANDIDATES[top], self.fit_of(top, j)
        sound = fit in ("meets", "likely") and self.meets_latency(c, j) and self.within_budget(c, j)
        if sound and (margin is None or margin >= policy.high_margin) and share >= policy.high_share:
            return "high"
        if (margin is None or margin >= policy.medium_margin) and share >= policy.medium_share and fit != "unlikely":
            return "medium"
        return "low"

    def summary(self, j: int, line: int = 0) -> Summary:
        """Scenario j's decision in one line (what `advisor batch` writes)."""
        o = self.winners
        top, runner, margin = o.verdict(j)
        c = CANDIDATES[top]
        cost = self.costs.figures(c).cost
        return Summary(line=line, project=_at(self.frame["project.name"], j), recommendation=c.id, label=c.label,
                       score=float(o.score[top, j]), confidence=self.confidence(j), margin=margin,
                       viable=bool(o.eligible[top, j]), win_share=float(self.shares[j]),
                       win_share_draws=int(self.share_samples[j]),
                       runner_up=CANDIDATES[runner].id if runner is not None else None,
                       eligible=int(o.eligible[:, j].sum()),
                       tco_usd=_at(cost["tco_usd"], j), upfront_usd=_at(cost["upfront_usd"], j),
                       monthly_usd_first=_at(cost["monthly_usd_first"], j),
                       monthly_usd_last=_at(cost["monthly_usd_last"], j),
                       cost_per_request_usd=_at(cost["cost_per_request_usd"], j),
                       horizon_months=int(_at(self.frame["preferences.horizon_months"], j)))


# Facts the rules read that are whole numbers, and the profile's counts: shown as such, not as 4.0.
_INTEGERS = frozenset(f"candidate.{k}" for k, f in Facts.model_fields.items() if "int" in str(f.annotation))


def _plain(path: str, value: Any) -> Any:
    """A clause value or fact as JSON shows it: yes/no as booleans, counts as whole numbers."""
    if isinstance(value, float) and known_fields().get(path) == BOOL:
        return bool(value)
    if isinstance(value, float) and value.is_integer() and (
            path in _INTEGERS or (path in numeric_fields() and numeric_fields()[path][1])):
        return int(value)
    return value


class Evaluation:
    """One profile, evaluated: each stage computed once, on first use."""

    def __init__(self, advisor: Advisor, profile: Profile):
        self.advisor = advisor
        self.profile = profile
        self.run = advisor.run(Frame.of([profile]))

    # -- the candidates ----------------------------------------------------------------------------------------------

    def _cost(self, c: Candidate) -> Cost:
        costs = self.run.costs
        figures = costs.figures(c).cost
        months = self.profile.preferences.horizon_months
        series = costs.monthly_series(c).reshape(-1)[:months]
        return Cost(**{k: _at(v, 0) for k, v in figures.items()}, monthly_usd=series.tolist())

    def _facts(self, c: Candidate) -> Facts:
        facts = {k: _plain(f"candidate.{k}", _at(v, 0)) for k, v in self.run.costs.figures(c).facts.items()}
        return Facts(**facts, model=self.run.label(c, 0), api_twin=c.api_twin.id if c.serving == "self-host" else None)

    @cached_property
    def priced(self) -> list[Priced]:
        """Every candidate's costs and facts (`advisor costs`)."""
        return [Priced(**PathModel.fields_of(c), cost=self._cost(c), facts=self._facts(c)) for c in CANDIDATES]

    # -- the decision ------------------------------------------------------------------------------------------------

    @cached_property
    def decision(self) -> Decision:
        o, run = self.run.outcome, self.run
        policy = self.advisor.rules.policy
        ranked = []
        for i in o.order[:, 0].tolist():
            c = CANDIDATES[i]
            facts = self._facts(c)
            fired = [f for f in o.fired[c] if np.asarray(f.where).flat[0]]
            vetoes = [f.rule.veto for f in fired if f.rule.spec.veto]
            reasons = [f.rule.reason(float(np.asarray(f.points).flat[0]), f.rule.spec.criterion)
                       for f in fired if f.rule.spec.criterion is not None and np.asarray(f.points).flat[0]]
            fit = FIT_LEVELS[int(o.fit[i, 0])]
            deciding = next((f.rule for f in fired if f.rule.spec.fit is not None), None)
            if deciding is not None and fit == "fails":
                vetoes.append(deciding.veto)
            elif deciding is not None and getattr(policy.fit_points, fit):
                points = getattr(policy.fit_points, fit) * float(_at(weights(run.frame, self.advisor.rules)[
                    "quality"], 0))
                reasons.append(deciding.reason(points, "quality"))
            if o.cost_points[i, 0]:
                reasons.append(Reason(rule=COST_TERM, points=float(o.cost_points[i, 0]),
                                      why=self._cost_why(c, i), source=policy.cost_source, criterion="cost"))
            reasons.sort(key=lambda x: (-abs(x.points), x.rule))
            basis = [deciding.spec.why] if deciding is not None else [
                "No evidence either way: nothing measured or stated decides whether this path reaches the quality "
                "the product needs."]
            if facts.eval_at_least is not None or facts.eval_at_most is not None:
                basis.append(self._evidence(facts))
            target = float(self.profile.latency.p95_ms)
            ranked.append(Ranked(
                **PathModel.fields_of(c), eligible=bool(o.eligible[i, 0]), vetoes=vetoes,
                score=float(o.score[i, 0]), reasons=reasons, cost_points=float(o.cost_points[i, 0]),
                criteria=Criteria(**{k: float(v[i, 0]) for k, v in o.criteria.items()}), model=self._model(c, facts),
                quality=QualityFit(fit=fit, basis=basis),
                latency=LatencyFit(p95_ms=facts.latency_ms, target_ms=target,
                                   applies_to="first_token" if bool(_at(run.costs.streaming, 0)) else "full_response",
                                   meets=facts.latency_ms <= target),
                cost=self._cost(c), facts=facts))
        top = ranked[0]
        _, _, margin = o.verdict(0)
        rules = self.advisor.rules
        recommendation = Recommendation(
            id=top.id, adaptation=top.adaptation, retrieval=top.retrieval, serving=top.serving, label=top.label,
            score=top.score, confidence=run.confidence(0), margin=margin, viable=top.eligible,
            win_share=float(run.shares[0]), win_share_draws=int(run.share_samples[0]), summary=self._summary(top))
        warnings = ([] if top.eligible else [NOT_VIABLE]) + self.unknowns + self._assumed_streaming()
        return Decision(schema_version=1, project=self.profile.project.name, recommendation=recommendation,
                        ranking=ranked, assumptions=self.assumptions,
                        ruleset=RulesetInfo(version=rules.version, digest=rules.digest), advisor_version=__version__,
                        warnings=warnings, profile=self.profile)

    def _cost_why(self, c: Candidate, i: int) -> str:
        o = self.run.outcome
        cheapest = np.where(o.eligible[:, 0] & (o.tco[:, 0] > 0), o.tco[:, 0], np.inf).min()
        times = float(o.tco[i, 0] / cheapest) if np.isfinite(cheapest) and cheapest > 0 else 1.0
        return (f"Its total cost over the horizon is {times:.1f}× the cheapest viable path's; each doubling costs "
                f"{self.advisor.rules.policy.cost_weight:g} points.")

    @staticmethod
    def _evidence(facts: Facts) -> str:
        parts = []
        if facts.eval_at_least is not None:
            parts.append(f"at least {facts.eval_at_least:.2f} (measured on a model no larger)")
        if facts.eval_at_most is not None:
            parts.append(f"at most {facts.eval_at_most:.2f} (measured on a model no smaller)")
        return "Measured evals bearing on this path: " + "; ".join(parts) + "."

    def _model(self, c: Candidate, facts: Facts) -> Model:
        run, j = self.run, 0
        model_id = str(_at(run.costs.model_ids(c), j))
        if c.serving == "api":
            return Model(kind="api", id=model_id, params=None, precision=None, gpu=None, gpus_per_replica=None)
        if c.serving == "self-host":
            return Model(kind="open", id=model_id, params=facts.model_params, precision=facts.precision,
                         gpu=str(_at(run.settings.gpu.id, j)), gpus_per_replica=facts.gpus_per_replica,
                         batch_per_replica=facts.batch_per_replica)
        return Model(kind="device", id=model_id, params=facts.model_params,
                     precision=str(_at(run.settings.on_device.precision, j)), gpu=None, gpus_per_replica=None,
                     device=str(_at(run.settings.on_device.device_class, j)))

    @cached_property
    def unknowns(self) -> list[str]:
        """A warning for each field the profile leaves unknown whose plausible ends would change the decision."""
        catalog, frame = self.advisor.catalog, self.run.frame
        open_ = [(path, u) for path, u in catalog.unknowns.items() if frame.first(path) is None]
        if not open_:
            return []
        n = 2 * len(open_)
        values: dict[str, Any] = {}
        for k, (path, u) in enumerate(open_):
            text = isinstance(u.low, str)
            column = np.array([None] * n, dtype=object) if text else np.full(n, np.nan)
            column[2 * k], column[2 * k + 1] = u.low, u.high
            values[path] = column
        varied = self.advisor.run(frame.vary(values)).winners
        winners, viable = varied.winners(), varied.viable().tolist()
        base = self.summary.recommendation
        out = []
        for k, (path, u) in enumerate(open_):
            ends = [(u.low, winners[2 * k], viable[2 * k]), (u.high, winners[2 * k + 1], viable[2 * k + 1])]
            changed = [f"`{w}` if it is {value_text(v)}" if ok else f"no viable path if it is {value_text(v)}"
                       for v, w, ok in ends if w != base or not ok]
            if changed:
                out.append(f"{path} is unknown ({u.label}): the recommendation would be " + ", and ".join(changed)
                           + "; find it out before acting.")
        return out

    def _assumed_streaming(self) -> list[str]:
        """A warning when streaming is not stated and the other answer would change the recommendation."""
        if self.profile.latency.streaming is not None:
            return []
        streamed = bool(_at(self.run.costs.streaming, 0))
        other = self.advisor.run(self.run.frame.vary({"latency.streaming": np.array([0.0 if streamed else 1.0])}))
        winner = other.winners.winners()[0]
        if winner == self.summary.recommendation:
            return []
        p = self.profile
        kind = article(choice_label("project.use_case", p.project.use_case))
        assumed = ("to stream its answers (the p95 target applies to the first token)" if streamed else
                   "to return whole answers (the p95 target applies to the full response)")
        instead = "returns whole answers" if streamed else "streams its answers"
        return [f"latency.streaming is not stated: as {kind}, it is taken {assumed}; if it {instead}, `{winner}` "
                f"would be recommended instead. State latency.streaming in the profile."]

    def _summary(self, top: Ranked) -> str:
        if not top.eligible:
            fails = " ".join(v.why for v in top.vetoes)
            return (f"No path meets every must-have. The closest is {top.label} (`{top.id}`), which fails: {fails} "
                    f"That would have to change first.")
        months = self.profile.preferences.horizon_months
        reason = f" Main reason: {top.reasons[0].why}" if top.reasons and top.reasons[0].points > 0 else ""
        per_request = (f", {usd(top.cost.cost_per_request_usd)} per request"
                       if top.cost.cost_per_request_usd is not None else "")
        return (f"{top.label}: {usd(top.cost.tco_usd)} over {months} months ({usd(top.cost.monthly_usd_first)}/month "
                f"at first{per_request}).{reason}")

    @cached_property
    def summary(self) -> Summary:
        """The decision in one line, as `advisor batch` writes it."""
        return self.run.summary(0)

    @cached_property
    def assumptions(self) -> list[Used]:
        """Every default and price the figures used, with its source and date, in a stable order."""
        catalog, stated, values = self.advisor.catalog, self.profile.assumptions, self.run.values
        out = []
        for name in Assumptions.model_fields:
            overridden = getattr(stated, name) is not None
            if name in catalog.defaults or overridden:
                out.append(provenance(name, overridden, catalog, _plain(f"assumptions.{name}", _at(values[name], 0))))
        gpu_id = _at(values["gpu"], 0)
        g = catalog.gpu(gpu_id)
        out.append(Used(name=f"gpu.{gpu_id}", value=f"{g.name}: {g.bf16_tflops:g} TFLOP/s BF16, "
                        f"{g.bandwidth_tbs:g} TB/s, {g.memory_gb:g} GB", source=g.source, date=g.date))
        hourly = _at(values["gpu_hourly_usd"], 0)
        out.append(provenance("gpu_hourly_usd", True, catalog, hourly) if stated.gpu_hourly_usd else
                   Used(name="gpu_hourly_usd", value=g.hourly_usd, source=g.source, date=g.date))
        at = catalog.price_timestamp
        model = _at(self.run.costs.api_model, 0)
        prices = self.advisor.prices
        out.append(Used(name=f"api_price.{model}", value=prices.rates(model).describe,
                        source=f"genai-prices {prices.version}, prices in force at {at:%Y-%m-%d}",
                        date=f"{at:%Y-%m-%d}"))
        ft_model = _at(values["fine_tune_api_model"], 0)
        ft = catalog.fine_tune_prices(ft_model)
        out.append(Used(name=f"fine_tune_price.{ft_model}",
                        value=f"training ${ft.training_usd_per_mtok:g}/M tokens; input ${ft.input_usd_per_mtok:g}/M, "
                              f"cached ${ft.cached_input_usd_per_mtok:g}/M, output ${ft.output_usd_per_mtok:g}/M",
                        source=ft.source, date=ft.date))
        return out

    # -- the trace ---------------------------------------------------------------------------------------------------

    @np.errstate(over="ignore", invalid="ignore")  # as in engine.score
    def explain(self, candidate: str | None = None) -> list[dict[str, Any]]:
        """For each candidate (or one), every rule — fired or not — with each clause's values and result. A rule whose
        selector excludes the candidate is listed with `applies: false` (it cannot fire) and its clauses' values."""
        wanted = parse(candidate) if candidate is not None else None
        rules = self.advisor.rules
        out = []
        for c in CANDIDATES:
            if wanted is not None and c != wanted:
                continue
            ctx = candidate_context(self.run.frame.columns, c, self.run.costs.figures(c),
                                    np.array(self.run.label(c, 0), dtype=object))
            applying = {r.id for r in rules.shapes[c].rules}
            trace: list[dict[str, Any]] = []
            deciding = False  # the first quality-fit rule that fires decides the fit (a decision list)
            for r in rules.rules:
                clauses = [{"group": group, "clause": cl.text, "result": bool(cl(ctx)[0]),
                            "values": {path: _plain(path, _at(np.asarray(ctx[path]), 0)) for path in cl.paths}}
                           for group, cl in r.clauses()]
                applies = r.id in applying
                fired = applies and bool(r.fires(ctx))
                entry = {"rule": r.id, "title": r.spec.title, "applies": applies, "fired": fired,
                         "effect": "veto" if r.spec.veto else f"fit: {r.spec.fit}" if r.spec.fit else r.spec.points}
                if r.spec.fit is not None:
                    entry["decides"] = fired and not deciding
                    deciding |= fired
                trace.append(entry | {"clauses": clauses})
            out.append({"id": c.id, "rules": trace})
        return out

    # -- robustness and the memo -------------------------------------------------------------------------------------

    def sensitivity(self, samples: int | None = None, seed: int | None = None) -> Sensitivity:
        """Tornado, flip points and Monte Carlo (`advisor sensitivity`)."""
        from .robustness import analyse

        return analyse(self, samples=samples, seed=seed)

    @cached_property
    def changes(self) -> list[Change]:
        """The smallest change found of each key input, in each direction, that gives a different winner."""
        from .robustness import flips

        return flips(self)

    @cached_property
    def robustness(self) -> str:
        """The winner's Monte Carlo share of first place, in words (the memo's robustness line)."""
        from .robustness import share_line

        return share_line(self.summary.recommendation, float(self.run.shares[0]), int(self.run.share_samples[0]))

    def memo(self, *, date: str | None = None, template: str | Path | None = None) -> str:
        """The Markdown decision memo: exactly what `advisor decide PROFILE` prints."""
        from .report import memo

        return memo(self, self.advisor.templates, date=date, template=template)


# -- the module-level verbs: thin wrappers over an Advisor -------------------------------------------------------------

@cache
def default_advisor() -> Advisor:
    """The Advisor with the shipped catalog and rules, which the module-level verbs share."""
    return Advisor()


Source = Profile | dict[str, Any] | str | Path
CatalogArg = Catalog | str | Path | None
RulesArg = RuleSet | str | Path | Sequence[str | Path] | None


def evaluate(profile: Source, *, catalog: CatalogArg = None, rules: RulesArg = None) -> Evaluation:
    advisor = default_advisor() if catalog is None and rules is None else Advisor(catalog, rules)
    return advisor.evaluate(profile)


def decide(profile: Source, *, catalog: CatalogArg = None, rules: RulesArg = None) -> Decision:
    """Price, score and rank every candidate path for `profile` (a Profile, a dict, or a JSON file path)."""
    return evaluate(profile, catalog=catalog, rules=rules).decision


def costs(profile: Source, *, catalog: CatalogArg = None) -> list[Priced]:
    """Every candidate's costs and facts (`advisor costs`)."""
    return evaluate(profile, catalog=catalog).priced


def explain(profile: Source, candidate: str | None = None, *, catalog: CatalogArg = None,
            rules: RulesArg = None) -> list[dict[str, Any]]:
    """Every rule for each candidate (or one), fired or not, with each clause's values (`advisor explain`)."""
    return evaluate(profile, catalog=catalog, rules=rules).explain(candidate)


def summarize(profile: Source, *, catalog: CatalogArg = None, rules: RulesArg = None) -> Summary:
    """The decision in one line, as `advisor batch` writes it."""
    return evaluate(profile, catalog=catalog, rules=rules).summary


def sensitivity(profile: Source, *, samples: int | None = None, seed: int | None = None, catalog: CatalogArg = None,
                rules: RulesArg = None) -> Sensitivity:
    """Tornado, flip points and Monte Carlo (`advisor sensitivity`)."""
    return evaluate(profile, catalog=catalog, rules=rules).sensitivity(samples=samples, seed=seed)


def memo(profile: Source, *, date: str | None = None, template: str | Path | None = None, catalog: CatalogArg = None,
         rules: RulesArg = None) -> str:
    """The Markdown decision memo: exactly what `advisor decide PROFILE` prints."""
    return evaluate(profile, catalog=catalog, rules=rules).memo(date=date, template=template)
