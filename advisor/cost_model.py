"""The embedded cost model (DESIGN §6): what each candidate costs up front, every month of the horizon, in total and
per request, with the latency, memory and break-even facts the rules read — for every scenario of a frame at once.

Every figure comes from the catalog or the profile (see `advisor catalog`); the formulas are the public ones:
training FLOPs ≈ 6·N·D at an MFU by GPU generation and model size; serving from a calibrated roofline, sized by a
search over replica configurations (`serving`); hosted-API prices from genai-prices, falling over the horizon at
the sourced price trend, as GPU hours do.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from . import serving
from .candidates import Candidate
from .catalog import Catalog, Training
from .errors import AdvisorError, InputError
from .frame import Array, Frame
from .prices import Prices
from .serving import BYTES_PER_PARAM, SEARCHED_PRECISIONS
from .settings import Part, Settings

K = TypeVar("K")
V = TypeVar("V")

DAYS_PER_MONTH = 365 / 12
WEEKS_PER_MONTH = 365 / 12 / 7
# Tasks with one narrow output (a label, fields, a ranking), where a small fine-tuned model matches large general
# ones (LoRA Land, Zhao et al. 2024); other tasks are open-ended.
NARROW_TASKS = ["classification", "extraction", "search_ranking"]
# Interactive use cases whose answers are streamed to a person when the profile does not say (latency.streaming).
STREAMED = ["chat_assistant", "support_assistant", "knowledge_qa", "code_assistant", "generation"]
SECONDS_PER_DAY = 86_400
INFERENCE_MEMORY_FACTOR = 1.2  # a device needs ≈ 1.2 × the weight bytes (cost-facts.md)


def power(base: Any, exponent: Any) -> Array:
    """`base ** exponent` elementwise with the C library's pow, as Python computes it. `np.float_power` calls it;
    `np.power` has vector-unit loops that differ in the last bit on some CPUs, and a result must not depend on the
    CPU (tests compare the two with Python's `**`)."""
    return np.asarray(np.float_power(base, exponent))


def lookup(keys: Array, table: dict[str, float]) -> Array:
    """Each text key's number from `table`, per scenario."""
    if keys.ndim == 0:
        return np.asarray(table[keys.item()], dtype=float)
    return np.array([table[k] for k in keys.tolist()], dtype=float)


def ratio(a: Array, b: Array) -> Array:
    """a / b, or NaN (unknown to the rules) where b is 0 or the ratio is not finite."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)
    return np.where(np.isfinite(r), r, np.nan)


# ----------------------------------------------------------------------------------------------------------------
# Building blocks shared by the candidate model and the quick estimates
# ----------------------------------------------------------------------------------------------------------------


def training_flops(params: Any, tokens: Any) -> Any:
    """C ≈ 6·N·D (Kaplan et al. 2020; Hoffmann et al. 2022)."""
    return 6.0 * params * tokens


def training_mfu(params: Any, mfu_10b: Any, training: Training, *, fine_tune: bool) -> Array:
    """MFU of a run: the GPU generation's MFU at 10B × (N / 10B) ^ exponent, at most the ceiling; fine-tuning (short
    runs, small batches, padded sequences) at a fitted share of it."""
    mfu = np.minimum(mfu_10b * power(np.asarray(params, dtype=float) / 1e10, training.size_exponent), training.max_mfu)
    return np.asarray(mfu * training.fine_tune_factor if fine_tune else mfu)


def gpu_hours(flops: Any, bf16_tflops: Any, mfu: Any) -> Any:
    return flops / (bf16_tflops * 1e12 * mfu * 3600)


# ----------------------------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------------------------


class Cost(BaseModel):
    """A candidate's money over the horizon (the `cost` object of the decision JSON)."""

    model_config = ConfigDict(frozen=True)
    upfront_usd: float
    monthly_usd_first: float
    monthly_usd_last: float
    tco_usd: float
    cost_per_request_usd: float | None
    monthly_usd: list[float]
    people_monthly_usd: float
    training_usd: float
    cash_monthly_usd_first: float  # money out each month besides engineering time: APIs, GPUs, services
    cash_monthly_usd_last: float
    cash_upfront_usd: float  # one-time cash: training runs, embedding the knowledge base
    cash_per_request_usd: float | None  # a request's cash cost to serve, no salaries or one-time costs
    spend_monthly_usd: float  # the largest monthly amount the monthly budget must pay (cash, or all if it
    spend_upfront_usd: float  # includes staff) and what the one-time budget must pay


class Facts(BaseModel):
    """What the cost model worked out about a candidate besides money; rules read these as `candidate.*`."""

    model_config = ConfigDict(frozen=True)
    model: str
    model_params: float | None
    model_tier: int
    tier_needed: int  # the hosted tier the quality need calls for: 3 frontier (high accuracy or a large gap), else 2
    latency_ms: float  # what the p95 target applies to: the first token when streamed, else the whole response
    first_token_ms: float
    full_response_ms: float
    kb_in_prompt: bool | None  # None when the knowledge base's size is unknown
    breaks_even: bool  # self-hosting costs less than its API twin over the horizon
    memory_fits: bool  # some replica of up to 64 GPUs holds the weights and one request's context
    on_device_feasible: bool
    gpus_per_replica: int
    precision: str | None  # the serving precision the replica search chose (self-hosted)
    batch_per_replica: int | None  # the sequences a replica runs at once (self-hosted)
    replicas_first: int
    replicas_last: int
    replica_output_tokens_per_s: float | None
    training_gpu_hours: float
    api_twin: str | None
    break_even_requests_per_day: float | None
    break_even_month: int | None
    build_weeks: float  # calendar weeks to build it with the team's ML engineers
    eval_at_least: float | None  # the best eval on a model no larger than this one (evidence carries up)
    eval_at_most: float | None  # the best eval on a model no smaller (a shortfall carries down)
    prompt_at_most: float | None  # the same for prompting alone: what retrieval or a bigger model starts from


# ----------------------------------------------------------------------------------------------------------------
# The candidate model
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """A candidate's cost structure per scenario: in month m at v requests/day it costs
    fixed + slope·v + api_slope·v·api(m) + gpu_slope·v·gpu(m) + replica_usd·gpu(m)·replicas(v), where api(m) and
    gpu(m) are the price trends (1 in the first month)."""

    cash_upfront: Array  # one-time cash: training runs, embedding the knowledge base
    people_upfront: Array  # the engineering time to build it
    fixed_monthly: Array
    people_monthly: Array
    training: Array
    slope: Array  # USD per month per request/day at flat prices (vector queries)
    api_slope: Array  # hosted-API calls, at the first month's prices
    gpu_slope: Array  # GPU-hours a batch job rents, at the first month's prices
    replica_usd: Array  # USD per month per always-on replica, at the first month's prices
    replicas_per_rpd: Array  # replicas needed per request/day at peak
    min_replicas: Array
    always_on: Array  # serves interactively from replicas that run around the clock
    facts: dict[str, Array] = field(default_factory=dict)

    def replicas(self, v: Array) -> Array:
        with np.errstate(invalid="ignore"):
            needed = np.maximum(self.min_replicas, np.ceil(v * self.replicas_per_rpd - 1e-9))
        return np.where(self.always_on, needed, 0.0)

    def monthly(self, v: Array, api: Array | float = 1.0, gpu: Array | float = 1.0) -> Array:
        """The cost of a month at v requests/day, with prices at the trend factors `api` and `gpu`."""
        cost = self.fixed_monthly + self.slope * v + self.api_slope * v * api + self.gpu_slope * v * gpu
        return np.asarray(np.where(self.always_on, cost + self.replica_usd * gpu * self.replicas(v), cost))


@dataclass
class Horizon:
    """Usage and prices over the planning horizon of every scenario: requests/day in each month (0 past a scenario's
    own horizon), the price trend factors of each month, and the requests over the whole horizon."""

    months: Array
    volumes: Array  # (month, scenario…)
    active: Array  # (month, scenario…): within the scenario's horizon
    api: Array  # (month, scenario…): hosted-API prices relative to the first month
    gpu: Array  # (month, scenario…): GPU-hour prices likewise
    first: Array
    last: Array
    requests: Array

    @classmethod
    def of(cls, frame: Frame, settings: Settings) -> Horizon:
        rpd, growth = frame["usage.requests_per_day"], frame["usage.monthly_growth"]
        months = frame["preferences.horizon_months"]
        # A scenario axis of the frame's length, even where every scenario has the same usage (one profile, or
        # identical lines in a batch chunk, whose columns are then single values).
        shape = np.broadcast_shapes(rpd.shape, growth.shape, months.shape, (frame.n,))
        m = np.arange(int(np.max(months))).reshape((-1,) + (1,) * len(shape))
        active = np.broadcast_to(m < months, m.shape[:1] + shape)
        volumes = np.where(active, rpd * power(1 + growth, m), 0.0)
        total = np.cumsum(volumes, axis=0)[-1]  # sequential, month by month
        last = np.take_along_axis(volumes, (np.broadcast_to(months, shape) - 1).astype(int)[None], axis=0)[0]
        return cls(months=months, volumes=volumes, active=active,
                   api=power(settings.api.price_change_per_year, m / 12),
                   gpu=power(settings.gpu.price_change_per_year, m / 12),
                   first=volumes[0], last=last, requests=total * DAYS_PER_MONTH)

    def series(self, plan: Plan) -> Array:
        """Each month's cost, (month, scenario…); months past a scenario's horizon hold 0."""
        return np.where(self.active, plan.monthly(self.volumes, self.api, self.gpu), 0.0)

    def first_reaching(self, volume: Array) -> Array:
        """The first month (1-based) whose volume reaches `volume`, or NaN if none does."""
        with np.errstate(invalid="ignore"):
            hit = (self.volumes >= volume) & self.active
        return np.where(hit.any(axis=0), hit.argmax(axis=0) + 1.0, np.nan)


def _memo(table: dict[K, V], key: K, make: Callable[[], V]) -> V:
    """`table[key]`, made by `make()` the first time it is asked for: the stages of one CostModel (its frame) are
    each computed once, and the tables belong to it."""
    if key not in table:
        table[key] = make()
    return table[key]


def _vectorize(fn: Any, values: Array) -> Array:
    """`fn` of each distinct value, per scenario (text or numbers; computed once per distinct value)."""
    if values.dtype != object:
        distinct, inverse = np.unique(values, return_inverse=True)
        results = [fn(v) for v in distinct.tolist()]
        table = np.array(results, dtype=object if isinstance(results[0], str) else float)
        return np.asarray(table[inverse.reshape(values.shape)])
    flat = values.reshape(-1).tolist()
    found = {v: fn(v) for v in set(flat)}
    out = np.array([found[v] for v in flat], dtype=object if isinstance(next(iter(found.values())), str)
                   else float)
    return out.reshape(values.shape)


def _bounds(evals: list[Any], tier: float, model: str, hosted: str, tier_of: Any) -> tuple[float, float]:
    """(best score on a model no larger, best score on a model no smaller), NaN where none: an eval's model is the
    one it names, else the hosted model advisor would use; a model without a known tier counts only for itself."""
    low = high = np.nan
    for e in evals:
        measured_on = e.model or hosted
        t = tier_of(measured_on)
        same = measured_on == model
        if same or (not np.isnan(t) and t <= tier):
            low = e.score if np.isnan(low) else max(low, e.score)
        if same or (not np.isnan(t) and t >= tier):
            high = e.score if np.isnan(high) else max(high, e.score)
    return low, high


def tier_of(catalog: Catalog, prices: Prices, model: str) -> float:
    """A model's capability tier: the catalog's, else a hosted model's by its price, else NaN (unknown)."""
    tier = catalog.tier(model)
    if tier is None:
        try:
            rates = prices.rates(model)
        except AdvisorError:
            return np.nan
        tier = catalog.tier_by_price(rates.rates[0][1] * 1e6)
    return float(tier)


def hosted_speed(catalog: Catalog, prices: Prices, model: str) -> serving.ApiSpeed:
    """A hosted model's median speed: the latency table's, or its provider's or tier's (`serving.api_speed`)."""
    tier = tier_of(catalog, prices, model)
    try:
        provider: str | None = prices.rates(model).provider
    except AdvisorError:
        provider = model.partition(":")[0] if ":" in model else None
    return serving.api_speed(catalog, model, None if np.isnan(tier) else int(tier), provider)


def _parts(c: Candidate) -> tuple[Part, ...]:
    """The pieces of work a candidate takes, each with its engineers and build time (`Settings.effort`)."""
    by_adaptation: dict[str, tuple[Part, ...]] = {"prompt": (), "fine-tune": ("fine_tune",),
                                                  "continued-pretrain": ("continued_pretrain", "fine_tune"),
                                                  "pretrain": ("pretrain", "fine_tune")}
    by_serving: dict[str, tuple[Part, ...]] = {"api": (), "self-host": ("self_host",), "on-device": ("on_device",)}
    adaptation, serving = by_adaptation[c.adaptation], by_serving[c.serving]
    return ("prompt", *(("rag",) if c.rag else ()), *adaptation, *serving)


@dataclass(frozen=True)
class Device:
    """The on-device model per scenario and what it delivers."""

    params: Array
    fits: Array  # the weights fit the device
    first_token_ms: Array  # to a request's last call's first token
    full_response_ms: Array


@dataclass
class Figures:
    """A candidate's money and facts per scenario: what rules read as `cost.*` and `candidate.*`."""

    cost: dict[str, Array]
    facts: dict[str, Array]


class CostModel:
    """Prices the candidates of every scenario of a frame, each candidate once and only when asked for."""

    def __init__(self, frame: Frame, settings: Settings, catalog: Catalog, prices: Prices):
        self.frame, self.s, self.catalog, self.prices = frame, settings, catalog, prices
        f, s = frame, settings
        # The capability tier the quality need calls for: frontier models for high or regulated accuracy or a large
        # gap, small ones otherwise; open-ended tasks at that tier fine-tune a large open model, narrow ones a small.
        self.frontier = ~f.equals("quality.accuracy", "normal") | f.equals("quality.gap", "large")
        narrow = np.isin(f["project.use_case"], NARROW_TASKS)
        self.api_model = np.where(self.frontier, s.api.model_high_accuracy, s.api.model)
        self.fine_tune_api_model = np.where(self.frontier & ~narrow, s.api.fine_tune_model_high_accuracy,
                                            s.api.fine_tune_model)
        self.open_params = np.where(self.frontier, s.open.params_high_accuracy, s.open.params)
        self.tuned_params = np.where(self.frontier & ~narrow, s.open.fine_tuned_params_high_accuracy,
                                     s.open.fine_tuned_params)
        self.horizon = Horizon.of(f, s)
        # Sizes the profile leaves unknown are priced at the catalog's planning defaults; rules see them as unknown.
        kb = f["data.knowledge_base_tokens"]
        self.kb_known = ~np.isnan(kb)
        self.kb = np.where(self.kb_known, kb, s.unknown.knowledge_base_tokens)
        examples = f["data.labeled_examples"]
        self.examples = np.where(np.isnan(examples), s.unknown.labeled_examples, examples)
        self.kb_fits_prompt = (0 < self.kb) & (self.kb <= s.retrieval.cached_prompt_max_tokens) & ~f.equals(
            "data.need", "behavior")
        rates = s.refresh_per_month
        self.refresh_rate = np.select(
            [f.equals("data.freshness", "static"), f.equals("data.freshness", "monthly"),
             f.equals("data.freshness", "weekly"),
             f.equals("data.freshness", "daily") | f.equals("data.freshness", "realtime")],
            [rates["static"], rates["monthly"], rates["weekly"], rates["daily"]], s.unknown.refresh_per_month)
        self.batch_mode = f.equals("latency.mode", "batch")
        stated = f["latency.streaming"]
        derived = ~self.batch_mode & np.isin(f["project.use_case"], STREAMED)
        self.streaming = np.where(np.isnan(stated), derived, stated == 1)
        self._plans: dict[Candidate, Plan] = {}
        self._figures: dict[Candidate, Figures] = {}
        self._replicas: dict[tuple[str, bool], serving.Replica] = {}
        self._devices: dict[bool, Device] = {}
        self._api_speed: dict[str, serving.ApiSpeed] = {}
        self._ids: dict[Candidate, Array] = {}
        self._tier_of: dict[Candidate, Array] = {}

    # -- helpers ---------------------------------------------------------------------------------------------------

    def _tokens(self, rag: bool) -> tuple[Array, Array]:
        """(input tokens per call, of which cached) with or without retrieval: the static prefix every call repeats
        is cached (a provider's prompt cache, a server's prefix cache), and so is a knowledge base held whole in
        the prompt."""
        f = self.frame
        prefix = np.minimum(np.nan_to_num(f["usage.cached_input_tokens"]), f["usage.input_tokens"])
        if rag:
            return f["usage.input_tokens"] + self.s.retrieval.context_tokens, prefix
        kb = np.where(self.kb_fits_prompt, self.kb, 0.0)
        return f["usage.input_tokens"] + kb, prefix + kb

    def pretrain_tokens(self, params: Array) -> Array:
        """Training tokens of a from-scratch model: the corpus, topped up with public data to D ≈ 20·N."""
        return np.asarray(np.maximum(self.frame["data.unlabeled_tokens"] * 1.0, 20 * params))

    def _sft_tokens(self, c: Candidate) -> Array:
        f = self.frame
        extra = self.s.retrieval.context_tokens if c.rag else 0  # RAFT: train with the retrieved documents
        return (self.examples * (f["usage.input_tokens"] + extra + f["usage.output_tokens"])
                * self.s.training.fine_tune_epochs)

    def _train_open(self, params: Array, tokens: Array, *, fine_tune: bool) -> tuple[Array, Array]:
        g = self.s.gpu
        derived = training_mfu(params, g.training_mfu_10b, self.catalog.training, fine_tune=fine_tune)
        mfu = np.where(np.isnan(self.s.training.mfu), derived, self.s.training.mfu)
        hours = gpu_hours(training_flops(params, tokens), g.bf16_tflops, mfu)
        return hours, hours * g.hourly_usd

    def serving_params(self, c: Candidate) -> Array:
        """The size of candidate `c`'s model: on a device the device's; a model of one's own sized to its corpus;
        else the open model the quality need calls for."""
        if c.serving == "on-device":
            return self.device(c.rag).params
        if c.adaptation == "pretrain":
            return self.s.open.pretrain_params
        return self.open_params if c.adaptation == "prompt" else self.tuned_params

    def _fine_tune(self, key: str) -> Array:
        models = self.fine_tune_api_model
        return lookup(models, {m: getattr(self.catalog.fine_tune_prices(m), key) for m in np.unique(models).tolist()})

    def model_ids(self, c: Candidate) -> Array:
        """The concrete model of candidate `c` per scenario: a hosted model's genai-prices id, or the reference open
        model of the size the candidate assumes."""
        return _memo(self._ids, c, lambda: self._model_ids(c))

    def _model_ids(self, c: Candidate) -> Array:
        if c.serving == "api":
            return self.fine_tune_api_model if c.adaptation == "fine-tune" else self.api_model
        params = np.asarray(self.serving_params(c), dtype=float)
        if c.adaptation == "pretrain":  # a model of its own, of the size its corpus calls for
            return _vectorize(lambda n: f"own-{n / 1e9:.3g}b", params)
        return _vectorize(lambda n: self.catalog.open_model(n)[0], params)

    def tiers(self, c: Candidate) -> Array:
        """The capability tier of candidate `c`'s model per scenario (see `Catalog.tier`)."""
        return _memo(self._tier_of, c, lambda: self._tiers(c))

    def _tiers(self, c: Candidate) -> Array:
        if c.serving == "api":
            default = np.where(self.frontier, 3.0, 2.0)  # a hosted model the catalog does not tier: by its slot
            return np.where(np.isnan(ids := _vectorize(self._tier, self.model_ids(c))), default, ids)
        params = np.asarray(self.serving_params(c), dtype=float)
        return _vectorize(lambda n: float(self.catalog.open_model(n)[1].tier), params)

    def _tier(self, model: str) -> float:
        return tier_of(self.catalog, self.prices, model)

    def evidence(self, c: Candidate) -> tuple[Array, Array]:
        """(a lower, an upper bound) on the eval score candidate `c` would measure, per scenario, NaN where no eval
        bears on it: the best measured score of its approach on a model no larger than its own (evidence carries
        up to bigger models) and on a model no smaller (a shortfall carries down to smaller ones)."""
        approach = {"prompt": "rag" if c.rag else "prompt", "fine-tune": "fine_tune"}.get(c.adaptation)
        return self._evidence(c, approach) if approach else (np.full(self.frame.n, np.nan),) * 2

    def _evidence(self, c: Candidate, approach: str) -> tuple[Array, Array]:
        n = self.frame.n
        measured = np.array([any(e.approach == approach for e in group) for group in self.frame.evals])
        low, high = np.full(n, np.nan), np.full(n, np.nan)
        rows = np.flatnonzero(np.broadcast_to(measured[self.frame.eval_group], (n,)))  # the rest: no evidence
        if not len(rows):
            return low, high
        columns = [np.broadcast_to(self.frame.eval_group, (n,))[rows], np.broadcast_to(self.tiers(c), (n,))[rows],
                   np.broadcast_to(self.model_ids(c), (n,))[rows],
                   np.broadcast_to(self.api_model, (n,))[rows]]  # what an eval that names no model was measured on
        key = np.zeros(len(rows), dtype=np.int64)
        for col in columns:
            if bool((col == col[0]).all()):  # one value for all: it does not split them
                continue
            values, inverse = np.unique(col, return_inverse=True)
            key = key * len(values) + inverse.reshape(len(rows))
        distinct, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        lows, highs = np.full(len(distinct), np.nan), np.full(len(distinct), np.nan)
        for k, i in enumerate(first.tolist()):
            evals = [e for e in self.frame.evals_of(int(rows[i])) if e.approach == approach]
            lows[k], highs[k] = _bounds(evals, float(columns[1][i]), str(columns[2][i]), str(columns[3][i]),
                                        self._tier)
        low[rows], high[rows] = lows[inverse.reshape(-1)], highs[inverse.reshape(-1)]
        return low, high

    # -- the plan of one candidate ---------------------------------------------------------------------------------

    def plan(self, c: Candidate) -> Plan:
        return _memo(self._plans, c, lambda: self._plan(c))

    def _plan(self, c: Candidate) -> Plan:
        f, s = self.frame, self.s
        r = s.retrieval
        calls_per_request, output_tokens = f["usage.calls_per_request"], f["usage.output_tokens"]
        calls_per_month_per_rpd = DAYS_PER_MONTH * calls_per_request
        input_tokens, cached = self._tokens(c.rag)
        eng = s.engineer_monthly_usd
        parts = _parts(c)
        people = eng * sum(s.effort[x].fte for x in parts)
        build_months = sum(s.effort[x].setup_months for x in parts)
        people_upfront, cash_upfront = eng * build_months, np.asarray(0.0)
        fixed, slope = people, np.asarray(0.0)
        zero = np.asarray(0.0)
        facts: dict[str, Array] = {"kb_in_prompt": np.where(self.kb_known, self.kb_fits_prompt & (not c.rag), np.nan),
                                   "memory_fits": np.asarray(True), "on_device_feasible": np.asarray(False),
                                   "gpus_per_replica": zero, "precision": np.asarray(None, dtype=object),
                                   "batch_per_replica": np.asarray(np.nan),
                                   "replica_output_tokens_per_s": np.asarray(np.nan), "training_gpu_hours": zero}

        # Retrieval: embed the knowledge base once, and what changed at each refresh; a managed vector store; a
        # query per call.
        kb = self.kb
        if c.rag:
            embed = kb / 1e6 * r.embedding_usd_per_mtok
            cash_upfront = cash_upfront + embed
            fixed = fixed + embed * r.changed_share * self.refresh_rate
            if c.serving != "on-device":  # on device the index lives locally
                gb = kb / r.chunk_tokens * r.embedding_dimensions * 4 / 1e9
                fixed = fixed + (r.store_base_monthly_usd + gb * r.store_usd_per_gb_month)
                slope = slope + calls_per_month_per_rpd * r.store_usd_per_million_queries / 1e6

        # Training: one-time run(s), and retraining when the knowledge a model holds goes stale.
        training = zero
        if c.adaptation != "prompt":
            holds_knowledge = ~f.equals("data.need", "behavior") & (not c.rag)
            retrains = np.where(holds_knowledge, self.refresh_rate, s.refresh_per_month["static"])
            sft_tokens = self._sft_tokens(c)
            if c.serving == "api":
                sft_usd = sft_tokens / 1e6 * self._fine_tune("training_usd_per_mtok") * s.api.price_factor
            else:
                hours, sft_usd = self._train_open(self.serving_params(c), sft_tokens, fine_tune=True)
                facts["training_gpu_hours"] = facts["training_gpu_hours"] + hours
            training = training + sft_usd
            fixed = fixed + sft_usd * retrains
            if c.adaptation == "continued-pretrain":
                hours, usd = self._train_open(self.serving_params(c), f["data.unlabeled_tokens"], fine_tune=False)
                facts["training_gpu_hours"] = facts["training_gpu_hours"] + hours
                training = training + usd
            elif c.adaptation == "pretrain":
                own = self.serving_params(c)
                hours, usd = self._train_open(own, self.pretrain_tokens(own), fine_tune=False)
                facts["training_gpu_hours"] = facts["training_gpu_hours"] + hours
                training = training + usd
        cash_upfront = cash_upfront + training

        # Engineering time: the engineer-months to build it, spread over the ML engineers (at least one person).
        facts["build_weeks"] = build_months * WEEKS_PER_MONTH / np.maximum(1, f["team.ml_engineers"])

        # Serving.
        rag_ms = r.latency_ms if c.rag else zero
        api_slope = gpu_slope = replica_usd = replicas_per_rpd = zero
        params = np.asarray(np.nan)
        if c.serving == "api":
            if c.adaptation == "fine-tune":
                per_call = ((input_tokens - cached) * self._fine_tune("input_usd_per_mtok")
                            + cached * self._fine_tune("cached_input_usd_per_mtok")
                            + output_tokens * self._fine_tune("output_usd_per_mtok")) / 1e6
            else:
                per_call = self.prices.call_usd(self.api_model, input_tokens, output_tokens, cached)
            api_slope = calls_per_month_per_rpd * per_call * s.api.price_factor
            first, full = self._api_latency(self.model_ids(c), input_tokens, rag_ms)
        elif c.serving == "self-host":
            params = self.serving_params(c)
            rep = self.replica(c)
            first, full = rep.first_token_ms, rep.full_response_ms
            facts.update(gpus_per_replica=rep.gpus, replica_output_tokens_per_s=rep.output_tokens_per_s,
                         memory_fits=rep.fits, precision=rep.precision,
                         batch_per_replica=rep.batch)
            # Batch jobs rent GPUs for the hours the work takes; interactive serving keeps replicas running.
            tokens_per_month_per_rpd = calls_per_month_per_rpd * output_tokens
            rented = tokens_per_month_per_rpd / rep.output_tokens_per_s / 3600 * rep.gpus * s.gpu.hourly_usd
            gpu_slope = np.where(self.batch_mode, rented, 0.0)
            replica_usd = np.where(self.batch_mode, 0.0, rep.gpus * s.gpu.hourly_usd * s.serving.hours_per_month)
            replicas_per_rpd = np.where(self.batch_mode, 0.0, self._peak_tokens_per_s_per_rpd()
                                        / rep.output_tokens_per_s)
        else:  # on-device: no per-call cost; feasible if the weights fit the device
            device = self.device(c.rag)
            params = device.params
            facts["on_device_feasible"] = device.fits
            first, full = device.first_token_ms, device.full_response_ms
        facts.update(model_params=params, first_token_ms=first, full_response_ms=full,
                     latency_ms=np.where(self.streaming, first, full))
        return Plan(cash_upfront=cash_upfront, people_upfront=people_upfront, fixed_monthly=fixed,
                    people_monthly=people,
                    training=training, slope=slope, api_slope=api_slope, gpu_slope=gpu_slope,
                    replica_usd=replica_usd, replicas_per_rpd=replicas_per_rpd, min_replicas=s.serving.min_replicas,
                    always_on=np.asarray(c.serving == "self-host") & ~self.batch_mode, facts=facts)

    def _peak_tokens_per_s_per_rpd(self) -> Array:
        f = self.frame
        return np.asarray(f["usage.calls_per_request"] * f["usage.output_tokens"] / SECONDS_PER_DAY
                          * f["usage.peak_to_average"])

    def api_speed(self, model: str) -> serving.ApiSpeed:
        return _memo(self._api_speed, model, lambda: hosted_speed(self.catalog, self.prices, model))

    def _api_latency(self, models: Array, input_tokens: Array, rag_ms: Array) -> tuple[Array, Array]:
        a = self.s.api
        speeds = {m: self.api_speed(m) for m in np.unique(models).tolist()}
        ttft = np.where(np.isnan(a.ttft_ms), lookup(models, {m: v.ttft_ms for m, v in speeds.items()}), a.ttft_ms)
        tps = np.where(np.isnan(a.output_tokens_per_s),
                       lookup(models, {m: v.output_tokens_per_s for m, v in speeds.items()}), a.output_tokens_per_s)
        # A stated TTFT is taken at the prompt it is given for; a table's grows from the length it was measured at.
        measured = np.where(np.isnan(a.ttft_ms), lookup(models, {m: float(v.input_tokens) for m, v in speeds.items()}),
                            input_tokens)
        median_ttft, median_call, _, _ = serving.api_latency(ttft, tps, measured, input_tokens,
                                                             self.frame["usage.output_tokens"],
                                                             self.catalog.latency_model)
        return serving.request_ms(self.frame["usage.calls_per_request"], median_ttft, median_call - median_ttft,
                                  rag_ms, self.catalog.latency_model)

    def replica(self, c: Candidate) -> serving.Replica:
        """The cheapest self-hosted replica meeting the latency target at the horizon's peak demand (see
        `serving.search`). Fine-tuned and continued-pretrained models share a size, so each (model, retrieval) is
        searched once."""
        key = ("prompt" if c.adaptation == "prompt" else "pretrain" if c.adaptation == "pretrain" else "tuned", c.rag)
        return _memo(self._replicas, key, lambda: self._replica(c))

    def _replica(self, c: Candidate) -> serving.Replica:
        f, s = self.frame, self.s
        input_tokens, cached = self._tokens(c.rag)
        stated = s.serving.precision
        unstated = np.asarray([v is None for v in np.ravel(stated)]).reshape(np.shape(stated))
        each = {p: (unstated & (p in SEARCHED_PRECISIONS)) | np.equal(stated, p) for p in BYTES_PER_PARAM}
        allowed = {p: np.asarray(ok) for p, ok in each.items() if np.any(ok)}
        peak_rpd = np.max(self.horizon.volumes, axis=0)
        return serving.search(
            np.asarray(self.serving_params(c), dtype=float), s.gpu, allowed=allowed, prompt_tokens=input_tokens,
            cached_tokens=cached, output_tokens=f["usage.output_tokens"], calls=f["usage.calls_per_request"],
            extra_ms=s.retrieval.latency_ms if c.rag else np.asarray(0.0), streaming=self.streaming,
            target_ms=f["latency.p95_ms"], demand_tokens_per_s=peak_rpd * self._peak_tokens_per_s_per_rpd(),
            min_replicas=s.serving.min_replicas, max_batch=s.serving.concurrency, batch_mode=self.batch_mode,
            memory_utilization=s.serving.memory_utilization, efficiency=s.serving.efficiency, catalog=self.catalog)

    def device(self, rag: bool) -> Device:
        """The on-device model: the profile's size, else the largest reference open model the device holds that
        meets the latency target (the smallest it holds when none does; the smallest when it holds none)."""
        return _memo(self._devices, rag, lambda: self._device(rag))

    def _device(self, rag: bool) -> Device:
        f, d = self.frame, self.s.on_device
        input_tokens, _ = self._tokens(rag)
        rag_ms = self.s.retrieval.latency_ms if rag else np.asarray(0.0)
        bytes_per_param = lookup(d.precision, BYTES_PER_PARAM)
        sizes = sorted(m.params for m in self.catalog.open_models.values())

        def at(params: Array) -> Device:
            decode, prefill_ms = serving.device_speed(params, bytes_per_param, d.bandwidth_gbs,
                                                      d.prefill_param_tokens_per_s)
            decode = np.where(np.isnan(d.tokens_per_s), decode, d.tokens_per_s)
            prefill_ms = np.where(np.isnan(d.prefill_ms_per_token), prefill_ms, d.prefill_ms_per_token)
            # A device serves one user: its speed does not vary with load, so its medians are its p95.
            calls = f["usage.calls_per_request"]
            call = input_tokens * prefill_ms + 1000 * f["usage.output_tokens"] / decode + rag_ms
            first = (calls - 1) * call + input_tokens * prefill_ms + rag_ms
            full = calls * call
            fits = params * bytes_per_param * INFERENCE_MEMORY_FACTOR / 1e9 <= d.max_weight_gb
            return Device(params=np.asarray(params, dtype=float), fits=fits, first_token_ms=first,
                          full_response_ms=full)

        tried = []  # (size, fits, meets the latency target) for each reference size, smallest first
        for n in sizes:
            here = at(np.asarray(n))
            latency = np.where(self.streaming, here.first_token_ms, here.full_response_ms)
            tried.append((n, here.fits, here.fits & (latency <= f["latency.p95_ms"])))
        shape = np.broadcast_shapes(*(np.shape(x) for _, fits, meets in tried for x in (fits, meets)))
        chosen, smallest_fit = np.full(shape, sizes[0]), np.full(shape, np.nan)
        meets_somewhere = np.zeros(shape, dtype=bool)
        for n, fits, meets in tried:
            chosen = np.where(meets, n, chosen)
            smallest_fit = np.where(np.isnan(smallest_fit) & fits, n, smallest_fit)
            meets_somewhere = meets_somewhere | meets
        searched = np.where(meets_somewhere, chosen, np.where(np.isnan(smallest_fit), sizes[0], smallest_fit))
        return at(np.where(np.isnan(d.model_params), searched, d.model_params))

    # -- money and facts -------------------------------------------------------------------------------------------

    def figures(self, c: Candidate) -> Figures:
        return _memo(self._figures, c, lambda: self._figures_of(c))

    def _figures_of(self, c: Candidate) -> Figures:
        h, plan = self.horizon, self.plan(c)
        low, high = self.evidence(c)
        _, prompt_high = self._evidence(c, "prompt")
        facts = dict(plan.facts, prompt_at_most=prompt_high, replicas_first=plan.replicas(h.first),
                     replicas_last=plan.replicas(h.last), break_even_requests_per_day=np.asarray(np.nan),
                     break_even_month=np.asarray(np.nan), breaks_even=np.asarray(False), model_tier=self.tiers(c),
                     tier_needed=np.where(self.frontier, 3.0, 2.0), eval_at_least=low, eval_at_most=high)
        series = h.series(plan)
        running = np.cumsum(series, axis=0)[-1]
        upfront = plan.people_upfront + plan.cash_upfront
        tco = upfront + running
        if c.serving == "self-host":
            v = break_even(plan, self.plan(c.api_twin))
            facts.update(break_even_requests_per_day=v, break_even_month=h.first_reaching(v),
                         breaks_even=tco < self.figures(c.api_twin).cost["tco_usd"])
        index = (np.broadcast_to(h.months, h.last.shape) - 1).astype(int)[None]
        first, last = series[0], np.take_along_axis(series, index, axis=0)[0]
        cash = np.where(h.active, series - plan.people_monthly, -np.inf)
        most, most_cash = np.max(np.where(h.active, series, -np.inf), axis=0), np.max(cash, axis=0)
        staff = self.frame["budget.includes_staff"] == 1
        cost = {"upfront_usd": upfront, "monthly_usd_first": first, "monthly_usd_last": last, "tco_usd": tco,
                "cost_per_request_usd": ratio(tco, h.requests), "people_monthly_usd": plan.people_monthly,
                "training_usd": plan.training, "cash_monthly_usd_first": first - plan.people_monthly,
                "cash_monthly_usd_last": last - plan.people_monthly, "cash_upfront_usd": plan.cash_upfront,
                # Unit economics: the cash a request costs to serve, without salaries or one-time costs.
                "cash_per_request_usd": ratio(running - h.months * plan.people_monthly, h.requests),
                # What the budgets must pay: the dearest month's cash, and the engineering time too when they
                # include staff.
                "spend_monthly_usd": np.where(staff, most, most_cash),
                "spend_upfront_usd": np.where(staff, upfront, plan.cash_upfront)}
        return Figures(cost=cost, facts=facts)

    def monthly_series(self, c: Candidate) -> Array:
        """Each month's cost, (month, scenario…); months past a scenario's horizon hold 0."""
        return self.horizon.series(self.plan(c))


def break_even(self_host: Plan, api: Plan) -> Array:
    """The smallest volume (requests/day) at which the self-hosted plan's monthly cost is at most its API twin's at
    the first month's prices, NaN if there is none.

    The API costs A + a·v; self-hosting S + s·v, plus R·max(m, ⌈k·v⌉) for always-on replicas (k > 0) — solved
    segment by segment over the replica count rather than searched, so it is exact and cheap.
    """
    never = np.inf
    gap = self_host.fixed_monthly - api.fixed_monthly
    net = api.slope + api.api_slope + api.gpu_slope - (self_host.slope + self_host.api_slope + self_host.gpu_slope)
    per_net = np.where(net > 0, net, 1)  # a safe divisor; results where net <= 0 are masked out
    linear = np.where(gap <= 0, 0.0, np.where(net > 0, gap / per_net, never))  # no always-on replicas
    k, rc, m = self_host.replicas_per_rpd, self_host.replica_usd, self_host.min_replicas
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        def crossing(n: Array) -> tuple[Array, Array]:
            """Where the costs cross while n replicas run, and whether that volume really needs only n."""
            v = np.maximum(np.where(n == m, 0.0, (n - 1) / k), (gap + rc * n) / per_net)
            return v, (net > 0) & (v <= n / k)

        v, found = crossing(m)
        stepped = np.where(found, v, never)
        gain = net / k - rc  # what one more replica's worth of volume saves; none if the replica costs more
        n0 = np.maximum(m + 1, np.ceil(gap / np.where(gain > 0, gain, 1)))
        for step in (-1, 0, 1, 2):
            if (found | ~self_host.always_on).all():
                break
            v, ok = crossing(np.maximum(m + 1, n0 + step))
            take = ~found & (gain > 0) & ok
            stepped, found = np.where(take, v, stepped), found | take
    result = np.where(self_host.always_on, stepped, linear)
    return np.where(np.isinf(result), np.nan, result)


# ----------------------------------------------------------------------------------------------------------------
# Quick estimates (DESIGN §6): `advisor estimate training | serving | api`
# ----------------------------------------------------------------------------------------------------------------


class TrainingEstimate(BaseModel):
    model_config = ConfigDict(defer_build=True)  # validator built on first use: only `advisor estimate` makes one
    flops: float
    gpu_hours: float
    cost_usd: float
    gpu: str
    mfu: float
    fine_tune: bool
    gpu_hourly_usd: float


class ServingEstimate(BaseModel):
    model_config = ConfigDict(defer_build=True)  # validator built on first use: only `advisor estimate` makes one
    gpus_per_replica: int
    output_tokens_per_s: float
    usd_per_million_output_tokens: float
    ttft_ms: float
    ms_per_output_token: float
    batch: int
    saturated: bool  # the batch is the most that fits (no --concurrency given)
    gpu: str
    precision: str
    gpu_hourly_usd: float


class ApiEstimate(BaseModel):
    model_config = ConfigDict(defer_build=True)  # validator built on first use: only `advisor estimate` makes one
    usd: float
    usd_per_request: float
    requests: int
    model: str
    prices: str


class LatencyEstimate(BaseModel):
    model_config = ConfigDict(defer_build=True)  # validator built on first use: only `advisor estimate` makes one
    ttft_ms: float
    output_tokens_per_s: float
    p50_ms: float
    p95_ms: float
    model: str
    basis: str  # the latency table's source, or the fallback taken for a model it lacks


# The largest values the estimates take, as the profile and catalog bound them: a model of 10^13 parameters, a
# corpus of 10^15 tokens, $10,000 a GPU-hour, 10^8 tokens a request, 10^12 requests.
HIGHEST = dict(params=1e13, tokens=1e15, gpu_hourly_usd=1e4, mfu=1.0, input_tokens=10**8, output_tokens=10**8,
               cached_tokens=10**8, requests=10**12, concurrency=65536)


def _positive(name: str, value: float) -> None:
    highest = HIGHEST[name]
    if not (isinstance(value, (int, float)) and math.isfinite(value) and 0 < value <= highest):
        raise InputError(f"--{name.replace('_', '-')}: must be a number above 0 and at most {highest:g} "
                         f"(got {value!r})")


def _whole(name: str, value: int, lowest: int = 0) -> None:
    highest = HIGHEST[name]
    if not isinstance(value, int) or isinstance(value, bool) or not lowest <= value <= highest:
        raise InputError(f"--{name.replace('_', '-')}: must be a whole number from {lowest} to {highest:,} "
                         f"(got {value!r})")


def estimate_training(catalog: Catalog, params: float, tokens: float, gpu: str, *, mfu: float | None = None,
                      gpu_hourly_usd: float | None = None, fine_tune: bool = False) -> TrainingEstimate:
    """Training compute: 6·N·D FLOPs at the MFU of the GPU's generation and the model's size (or `mfu`)."""
    g = catalog.gpu(gpu)
    hourly = gpu_hourly_usd if gpu_hourly_usd is not None else g.hourly_usd
    for name, value in (("params", params), ("tokens", tokens), ("gpu_hourly_usd", hourly)):
        _positive(name, value)
    if mfu is None:
        mfu = float(training_mfu(params, g.training_mfu_10b, catalog.training, fine_tune=fine_tune))
    _positive("mfu", mfu)
    flops = training_flops(params, tokens)
    hours = gpu_hours(flops, g.bf16_tflops, mfu)
    return TrainingEstimate(flops=flops, gpu_hours=hours, cost_usd=hours * hourly, gpu=gpu, mfu=mfu,
                            fine_tune=fine_tune, gpu_hourly_usd=hourly)


def estimate_serving(catalog: Catalog, params: float, gpu: str, precision: str, *, input_tokens: int = 1000,
                     output_tokens: int = 200, gpu_hourly_usd: float | None = None,
                     concurrency: int | None = None) -> ServingEstimate:
    """The cheapest replica per output token of a node's tensor-parallel widths (1-8 GPUs; more only when no node
    holds the model): at `concurrency` sequences in flight, else saturated (the most that fit in memory, up to the
    catalog's `saturated_batch`), as throughput benchmarks report it."""
    from .settings import gpu_record

    if precision not in BYTES_PER_PARAM:
        raise InputError(f"--precision: must be one of {', '.join(BYTES_PER_PARAM)} (got {precision!r})")
    hourly = gpu_hourly_usd if gpu_hourly_usd is not None else catalog.gpu(gpu).hourly_usd
    for name, value in (("params", params), ("gpu_hourly_usd", hourly)):
        _positive(name, value)
    _whole("input_tokens", input_tokens, 1)
    _whole("output_tokens", output_tokens, 1)
    if concurrency is not None:
        _whole("concurrency", concurrency, 1)
    spec = gpu_record(np.array(gpu, dtype=object), np.asarray(float(hourly)), np.asarray(1.0), catalog)
    n, batch = np.asarray(float(params)), float(concurrency or catalog.serving.saturated_batch)
    options: list[tuple[float, int, serving.Speed]] = []  # ($/token, GPUs, figures) for each width that holds it
    for gpus in serving.TENSOR_PARALLEL:
        speed = serving.figures(
            n, precision, spec, gpus, np.asarray(batch), prompt_tokens=np.asarray(float(input_tokens)),
            cached_tokens=np.asarray(0.0), output_tokens=np.asarray(float(output_tokens)), catalog=catalog,
            memory_utilization=np.asarray(catalog.defaults["gpu_memory_utilization"].value),
            efficiency=np.asarray(catalog.defaults["serving_efficiency"].value))
        if not np.isnan(speed.max_batch) and (gpus <= serving.NODE_GPUS or not options):
            options.append((gpus * hourly / float(speed.output_tokens_per_s), gpus, speed))
    if not options:
        raise InputError(f"--params: a {params:g}-parameter model at {precision} does not fit "
                         f"{serving.TENSOR_PARALLEL[-1]} × {gpu}")
    _, gpus, speed = min(options, key=lambda o: o[0])
    tokens_per_s = float(speed.output_tokens_per_s)
    return ServingEstimate(gpus_per_replica=gpus, output_tokens_per_s=tokens_per_s,
                           usd_per_million_output_tokens=gpus * hourly / (tokens_per_s * 3600) * 1e6,
                           ttft_ms=1000 * float(speed.ttft_s), ms_per_output_token=1000 * float(speed.tpot_s),
                           batch=int(min(batch, float(speed.max_batch))), saturated=concurrency is None, gpu=gpu,
                           precision=precision, gpu_hourly_usd=hourly)


def estimate_api(prices: Prices, model: str, input_tokens: int, output_tokens: int, cached_tokens: int = 0,
                 requests: int = 1) -> ApiEstimate:
    """Price `requests` requests of a hosted model, each of `input_tokens` (including `cached_tokens`) and
    `output_tokens`: one request is priced (long-context tiers apply per request) and multiplied."""
    from .prices import exact_usd

    for name, value in (("input_tokens", input_tokens), ("output_tokens", output_tokens),
                        ("cached_tokens", cached_tokens)):
        _whole(name, value)
    _whole("requests", requests, 1)
    if cached_tokens > input_tokens:
        raise InputError(f"--cached-tokens ({cached_tokens}) cannot exceed --input-tokens ({input_tokens})")
    one = exact_usd(model, input_tokens, output_tokens, cached_tokens, prices.at)
    return ApiEstimate(usd=float(one * requests), usd_per_request=float(one), requests=requests, model=model,
                       prices=prices.rates(model).describe)


def estimate_latency(catalog: Catalog, prices: Prices, model: str, input_tokens: int,
                     output_tokens: int) -> LatencyEstimate:
    """A hosted model's median and p95 latency for one call (`advisor estimate latency`)."""
    _whole("input_tokens", input_tokens, 1)
    _whole("output_tokens", output_tokens, 1)
    speed = hosted_speed(catalog, prices, model)
    ttft, p50, _, p95 = serving.api_latency(np.asarray(speed.ttft_ms), np.asarray(speed.output_tokens_per_s),
                                            np.asarray(float(speed.input_tokens)), np.asarray(float(input_tokens)),
                                            np.asarray(float(output_tokens)), catalog.latency_model)
    return LatencyEstimate(ttft_ms=float(ttft), output_tokens_per_s=speed.output_tokens_per_s, p50_ms=float(p50),
                           p95_ms=float(p95), model=model, basis=speed.basis)
