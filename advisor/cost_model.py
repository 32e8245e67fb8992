"""The embedded cost model (DESIGN §6): what each candidate costs up front, every month of the horizon, in total and
per request, with the latency, memory and break-even facts the rules read — for every scenario of a frame at once.

Every figure comes from the catalog or the profile (see `advisor catalog`); the formulas are the public ones:
training FLOPs ≈ 6·N·D; serving from a roofline (decode reads every weight once per step, batching amortises the
read until compute-bound at 2·N FLOPs per token), scaled by a calibration factor measured against vLLM.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from .candidates import Candidate
from .catalog import Catalog
from .errors import AdvisorError, InputError
from .frame import Array, Frame
from .prices import Prices
from .settings import Gpu, Part, Settings

DAYS_PER_MONTH = 365 / 12
WEEKS_PER_MONTH = 365 / 12 / 7
# Tasks with one narrow output (a label, fields, a ranking), where a small fine-tuned model matches large general
# ones (LoRA Land, Zhao et al. 2024); other tasks are open-ended.
NARROW_TASKS = ["classification", "extraction", "search_ranking"]
# Interactive use cases whose answers are streamed to a person when the profile does not say (latency.streaming).
STREAMED = ["chat_assistant", "support_assistant", "knowledge_qa", "code_assistant", "generation"]
SECONDS_PER_DAY = 86_400
BYTES_PER_PARAM: dict[str, float] = {"bf16": 2, "fp16": 2, "fp8": 1, "int8": 1, "int4": 0.5}
INFERENCE_MEMORY_FACTOR = 1.2  # inference memory ≈ 1.2 × weight bytes (cost-facts.md)
# KV cache per token in bf16, fitted through Llama-3-8B (128 KiB) and Llama-3-70B (320 KiB): 128 KiB × (N/8e9)^0.42.
KV_BYTES_8B = 128 * 1024
KV_EXPONENT = math.log(320 / 128) / math.log(70 / 8)
TENSOR_PARALLEL = (1, 2, 4, 8, 16, 32, 64)
SINGLE_NODE_GPUS = 8
MAX_HALVINGS = 13  # serving_concurrency ≤ 4096 = 2^12: the batch reaches 1 within 13 tries


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


def gpu_hours(flops: Any, bf16_tflops: Any, mfu: Any) -> Any:
    return flops / (bf16_tflops * 1e12 * mfu * 3600)


def kv_bytes_per_token(params: Array) -> Array:
    return KV_BYTES_8B * power(params / 8e9, KV_EXPONENT)


@dataclass
class Replica:
    """One serving replica of an open model: its GPUs, the batch it runs and what it delivers."""

    gpus: Array
    batch: Array
    output_tokens_per_s: Array  # aggregate, calibrated
    step_s: Array  # one decode step for the whole batch, calibrated
    prefill_s: Array  # prompt processing for one request's call, calibrated

    def call_latency_ms(self, output_tokens: Array) -> Array:
        return np.asarray(1000 * (self.prefill_s + output_tokens * self.step_s))

    def where(self, keep: Array, other: Replica) -> Replica:
        """Per scenario, this replica where `keep`, else `other`."""
        return Replica(*(np.where(keep, getattr(self, f.name), getattr(other, f.name)) for f in fields(Replica)))


def replica(params: Array, weight_bytes: Array, gpu: Gpu, *, prefill_tokens: Array, context_tokens: Array,
            output_tokens: Array, batch: Array, efficiency: Array, memory_utilization: Array,
            gpus: Array | None = None) -> Replica:
    """Roofline throughput of the smallest tensor-parallel group that holds the weights and at least one sequence
    (`gpus`, when already known for these weights and context: it does not depend on the batch).

    Step time for a batch of b sequences is the larger of reading the weights plus b KV caches (memory-bound) and
    b tokens' compute, where each output token also carries its share of prompt prefill: 2·N·(1 + prefill/output).
    """
    weights = params * weight_bytes
    kv = kv_bytes_per_token(params) * context_tokens

    def usable(g: Any) -> Any:
        return g * gpu.memory_gb * 1e9 * memory_utilization

    if gpus is None:
        gpus, found = np.asarray(float(TENSOR_PARALLEL[-1])), np.asarray(False)  # the largest when none fits
        for g in TENSOR_PARALLEL[:-1]:
            fits = (usable(g) >= weights * INFERENCE_MEMORY_FACTOR) & (usable(g) - weights >= kv)
            gpus, found = np.where(found, gpus, np.where(fits, float(g), gpus)), found | fits
            if found.all():
                break
    b = np.maximum(1, np.minimum(batch, np.floor((usable(gpus) - weights) // kv)))
    bandwidth = gpus * gpu.bandwidth_tbs * 1e12
    flops = gpus * gpu.bf16_tflops * 1e12
    per_token_flops = 2.0 * params * (1 + prefill_tokens / output_tokens)
    step = np.maximum((weights + b * kv) / bandwidth, b * per_token_flops / flops) / efficiency
    prefill = np.maximum(weights / bandwidth, 2.0 * params * prefill_tokens / flops) / efficiency
    return Replica(gpus=gpus, batch=b, output_tokens_per_s=b / step, step_s=step, prefill_s=prefill)


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
    memory_fits: bool
    on_device_feasible: bool
    gpus_per_replica: int
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
    """A candidate's cost structure per scenario: monthly = fixed + slope·v + step(v) for v requests/day."""

    cash_upfront: Array  # one-time cash: training runs, embedding the knowledge base
    people_upfront: Array  # the engineering time to build it
    fixed_monthly: Array
    people_monthly: Array
    training: Array
    slope: Array  # USD per month per request/day (API calls, vector queries, batch GPU-hours)
    replica_usd: Array  # USD per month per always-on replica
    replicas_per_rpd: Array  # replicas needed per request/day at peak
    min_replicas: Array
    always_on: Array  # serves interactively from replicas that run around the clock
    facts: dict[str, Array] = field(default_factory=dict)

    def replicas(self, v: Array) -> Array:
        with np.errstate(invalid="ignore"):
            needed = np.maximum(self.min_replicas, np.ceil(v * self.replicas_per_rpd - 1e-9))
        return np.where(self.always_on, needed, 0.0)

    def monthly(self, v: Array) -> Array:
        cost = self.fixed_monthly + self.slope * v
        return np.asarray(np.where(self.always_on, cost + self.replica_usd * self.replicas(v), cost))


@dataclass
class Horizon:
    """Usage over the planning horizon of every scenario: requests/day in each month (0 past a scenario's own
    horizon), their sum and the requests over the whole horizon."""

    months: Array
    volumes: Array  # (month, scenario…)
    active: Array  # (month, scenario…): within the scenario's horizon
    first: Array
    last: Array
    volume_sum: Array
    requests: Array

    @classmethod
    def of(cls, frame: Frame) -> Horizon:
        rpd, growth = frame["usage.requests_per_day"], frame["usage.monthly_growth"]
        months = frame["preferences.horizon_months"]
        shape = np.broadcast_shapes(rpd.shape, growth.shape, months.shape) or (1,)  # a scenario axis, even of 1
        m = np.arange(int(np.max(months))).reshape((-1,) + (1,) * len(shape))
        active = m < months
        volumes = np.where(active, rpd * power(1 + growth, m), 0.0)
        total = np.cumsum(volumes, axis=0)[-1]  # sequential, month by month
        last = np.take_along_axis(volumes, (np.broadcast_to(months, shape) - 1).astype(int)[None], axis=0)[0]
        return cls(months=months, volumes=volumes, active=active, first=volumes[0], last=last, volume_sum=total,
                   requests=total * DAYS_PER_MONTH)

    def total(self, plan: Plan) -> Array:
        """The sum of `plan.monthly` over each scenario's months, in closed form where it is linear."""
        cost = self.months * plan.fixed_monthly + plan.slope * self.volume_sum
        if not plan.always_on.any():
            return np.asarray(cost)
        replicas = np.sum(np.where(self.active, plan.replicas(self.volumes), 0.0), axis=0)
        return np.asarray(np.where(plan.always_on, cost + plan.replica_usd * replicas, cost))

    def first_reaching(self, volume: Array) -> Array:
        """The first month (1-based) whose volume reaches `volume`, or NaN if none does."""
        with np.errstate(invalid="ignore"):
            hit = (self.volumes >= volume) & self.active
        return np.where(hit.any(axis=0), hit.argmax(axis=0) + 1.0, np.nan)


def _vectorize(fn: Any, values: Array) -> Array:
    """`fn` of each distinct value, per scenario (text or numbers; computed once per distinct value)."""
    flat = values.reshape(-1).tolist()
    results = {v: fn(v) for v in set(flat)}
    out = np.array([results[v] for v in flat], dtype=object if isinstance(next(iter(results.values())), str)
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


def _parts(c: Candidate) -> tuple[Part, ...]:
    """The pieces of work a candidate takes, each with its engineers and build time (`Settings.effort`)."""
    by_adaptation: dict[str, tuple[Part, ...]] = {"prompt": (), "fine-tune": ("fine_tune",),
                                                  "continued-pretrain": ("continued_pretrain", "fine_tune"),
                                                  "pretrain": ("pretrain", "fine_tune")}
    by_serving: dict[str, tuple[Part, ...]] = {"api": (), "self-host": ("self_host",), "on-device": ("on_device",)}
    adaptation, serving = by_adaptation[c.adaptation], by_serving[c.serving]
    return ("prompt", *(("rag",) if c.rag else ()), *adaptation, *serving)


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
        self.horizon = Horizon.of(f)
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
        self._served: dict[tuple[str, bool], tuple[Replica, Array]] = {}

    # -- helpers ---------------------------------------------------------------------------------------------------

    def _tokens(self, c: Candidate) -> tuple[Array, Array]:
        """(input tokens per call, of which cached) for candidate `c`."""
        f = self.frame
        if c.rag:
            return f["usage.input_tokens"] + self.s.retrieval.context_tokens, np.asarray(0.0)
        kb = np.where(self.kb_fits_prompt, self.kb, 0.0)
        return f["usage.input_tokens"] + kb, kb

    def pretrain_tokens(self) -> Array:
        """Training tokens of a from-scratch model: the corpus, topped up with public data to D ≈ 20·N."""
        return np.asarray(np.maximum(self.frame["data.unlabeled_tokens"] * 1.0, 20 * self.s.open.pretrain_params))

    def _sft_tokens(self, c: Candidate) -> Array:
        f = self.frame
        extra = self.s.retrieval.context_tokens if c.rag else 0  # RAFT: train with the retrieved documents
        return (self.examples * (f["usage.input_tokens"] + extra + f["usage.output_tokens"])
                * self.s.training.fine_tune_epochs)

    def _train_open(self, params: Array, tokens: Array) -> tuple[Array, Array]:
        hours = gpu_hours(training_flops(params, tokens), self.s.gpu.bf16_tflops, self.s.training.mfu)
        return hours, hours * self.s.gpu.hourly_usd

    def serving_params(self, c: Candidate) -> Array:
        if c.adaptation == "pretrain":
            return self.s.open.pretrain_params
        if c.serving == "on-device":
            return self.s.on_device.model_params
        return self.open_params if c.adaptation == "prompt" else self.tuned_params

    def _fine_tune(self, key: str) -> Array:
        models = self.fine_tune_api_model
        return lookup(models, {m: getattr(self.catalog.fine_tune_prices(m), key) for m in np.unique(models).tolist()})

    def model_ids(self, c: Candidate) -> Array:
        """The concrete model of candidate `c` per scenario: a hosted model's genai-prices id, or the reference open
        model of the size the candidate assumes."""
        if c.serving == "api":
            return self.fine_tune_api_model if c.adaptation == "fine-tune" else self.api_model
        params = np.asarray(self.serving_params(c), dtype=float)
        if c.adaptation == "pretrain":  # a model of its own, of the size its corpus calls for
            return _vectorize(lambda n: f"own-{n / 1e9:.3g}b", params)
        return _vectorize(lambda n: self.catalog.open_model(n)[0], params)

    def tiers(self, c: Candidate) -> Array:
        """The capability tier of candidate `c`'s model per scenario (see `Catalog.tier`)."""
        if c.serving == "api":
            default = np.where(self.frontier, 3.0, 2.0)  # a hosted model the catalog does not tier: by its slot
            return np.where(np.isnan(ids := _vectorize(self._tier, self.model_ids(c))), default, ids)
        params = np.asarray(self.serving_params(c), dtype=float)
        return _vectorize(lambda n: float(self.catalog.open_model(n)[1].tier), params)

    def _tier(self, model: str) -> float:
        """A model's capability tier: the catalog's, else a hosted model's by its price, else NaN (unknown)."""
        tier = self.catalog.tier(model)
        if tier is None:
            try:
                rates = self.prices.rates(model)
            except AdvisorError:
                return np.nan
            tier = self.catalog.tier_by_price(rates.rates[0][1] * 1e6)
        return float(tier)

    def evidence(self, c: Candidate) -> tuple[Array, Array]:
        """(a lower, an upper bound) on the eval score candidate `c` would measure, per scenario, NaN where no eval
        bears on it: the best measured score of its approach on a model no larger than its own (evidence carries
        up to bigger models) and on a model no smaller (a shortfall carries down to smaller ones)."""
        approach = {"prompt": "rag" if c.rag else "prompt", "fine-tune": "fine_tune"}.get(c.adaptation)
        return self._evidence(c, approach) if approach else (np.full(self.frame.n, np.nan),) * 2

    def _evidence(self, c: Candidate, approach: str) -> tuple[Array, Array]:
        n = self.frame.n
        ids = np.broadcast_to(self.model_ids(c), (n,))
        tiers = np.broadcast_to(self.tiers(c), (n,))
        hosted = np.broadcast_to(self.api_model, (n,))  # what an eval that names no model was measured on
        known: dict[tuple[int, float, str, str], tuple[float, float]] = {}
        low, high = np.full(n, np.nan), np.full(n, np.nan)
        for j in range(n):
            evals = self.frame.evals_of(j)
            key = (j if len(self.frame.evals) > 1 else 0, float(tiers[j]), str(ids[j]), str(hosted[j]))
            if key not in known:
                known[key] = _bounds([e for e in evals if e.approach == approach], tiers[j], ids[j], hosted[j],
                                     self._tier)
            low[j], high[j] = known[key]
        return low, high

    # -- the plan of one candidate ---------------------------------------------------------------------------------

    def plan(self, c: Candidate) -> Plan:
        found = self._plans.get(c)
        if found is None:
            found = self._plans[c] = self._plan(c)
        return found

    def _plan(self, c: Candidate) -> Plan:
        f, s = self.frame, self.s
        r = s.retrieval
        calls_per_request, output_tokens = f["usage.calls_per_request"], f["usage.output_tokens"]
        calls_per_month_per_rpd = DAYS_PER_MONTH * calls_per_request
        input_tokens, cached = self._tokens(c)
        eng = s.engineer_monthly_usd
        parts = _parts(c)
        people = eng * sum(s.effort[x].fte for x in parts)
        build_months = sum(s.effort[x].setup_months for x in parts)
        people_upfront, cash_upfront = eng * build_months, np.asarray(0.0)
        fixed, slope = people, np.asarray(0.0)
        facts: dict[str, Array] = {"kb_in_prompt": np.where(self.kb_known, self.kb_fits_prompt & (not c.rag), np.nan),
                                   "memory_fits": np.asarray(True), "on_device_feasible": np.asarray(False),
                                   "gpus_per_replica": np.asarray(0.0),
                                   "replica_output_tokens_per_s": np.asarray(np.nan),
                                   "training_gpu_hours": np.asarray(0.0)}

        # Retrieval: embed the knowledge base once and at each refresh; a managed vector store; a query per call.
        kb = self.kb
        if c.rag:
            embed = kb / 1e6 * r.embedding_usd_per_mtok
            cash_upfront = cash_upfront + embed
            fixed = fixed + embed * self.refresh_rate
            if c.serving != "on-device":  # on device the index lives locally
                gb = kb / r.chunk_tokens * r.embedding_dimensions * 4 / 1e9
                fixed = fixed + (r.store_base_monthly_usd + gb * r.store_usd_per_gb_month)
                slope = slope + calls_per_month_per_rpd * r.store_usd_per_million_queries / 1e6

        # Training: one-time run(s), and retraining when the knowledge a model holds goes stale.
        training = np.asarray(0.0)
        if c.adaptation != "prompt":
            holds_knowledge = ~f.equals("data.need", "behavior") & (not c.rag)
            retrains = np.where(holds_knowledge, self.refresh_rate, s.refresh_per_month["static"])
            sft_tokens = self._sft_tokens(c)
            if c.serving == "api":
                sft_usd = sft_tokens / 1e6 * self._fine_tune("training_usd_per_mtok") * s.api.price_factor
            else:
                hours, sft_usd = self._train_open(self.serving_params(c), sft_tokens)
                facts["training_gpu_hours"] = facts["training_gpu_hours"] + hours
            training = training + sft_usd
            fixed = fixed + sft_usd * retrains
            if c.adaptation == "continued-pretrain":
                hours, usd = self._train_open(self.serving_params(c), f["data.unlabeled_tokens"])
                facts["training_gpu_hours"] = facts["training_gpu_hours"] + hours
                training = training + usd
            elif c.adaptation == "pretrain":
                hours, usd = self._train_open(s.open.pretrain_params, self.pretrain_tokens())
                facts["training_gpu_hours"] = facts["training_gpu_hours"] + hours
                training = training + usd
        cash_upfront = cash_upfront + training

        # Engineering time: the engineer-months to build it, spread over the ML engineers (at least one person).
        facts["build_weeks"] = build_months * WEEKS_PER_MONTH / np.maximum(1, f["team.ml_engineers"])

        # Serving.
        rag_ms = r.latency_ms if c.rag else np.asarray(0.0)
        replica_usd = replicas_per_rpd = np.asarray(0.0)
        params = np.asarray(np.nan)
        if c.serving == "api":
            if c.adaptation == "fine-tune":
                per_call = ((input_tokens - cached) * self._fine_tune("input_usd_per_mtok")
                            + cached * self._fine_tune("cached_input_usd_per_mtok")
                            + output_tokens * self._fine_tune("output_usd_per_mtok")) / 1e6
            else:
                per_call = self.prices.call_usd(self.api_model, input_tokens, output_tokens, cached)
            slope = slope + calls_per_month_per_rpd * per_call * s.api.price_factor
            call_ms = s.api.ttft_ms + 1000 * output_tokens / s.api.output_tokens_per_s
            first_ms = s.api.ttft_ms
        elif c.serving == "self-host":
            params = self.serving_params(c)
            replica_, call_ms = self._replica_for_latency(c, params, input_tokens, cached, rag_ms)
            first_ms = 1000 * replica_.prefill_s
            facts.update(gpus_per_replica=replica_.gpus, replica_output_tokens_per_s=replica_.output_tokens_per_s,
                         memory_fits=replica_.gpus <= SINGLE_NODE_GPUS)
            # Batch jobs rent GPUs for the hours the work takes; interactive serving keeps replicas running.
            tokens_per_month_per_rpd = calls_per_month_per_rpd * output_tokens
            rented = (tokens_per_month_per_rpd / replica_.output_tokens_per_s / 3600 * replica_.gpus
                      * s.gpu.hourly_usd)
            slope = np.where(self.batch_mode, slope + rented, slope)
            peak_tokens_per_s_per_rpd = (calls_per_request * output_tokens / SECONDS_PER_DAY
                                         * f["usage.peak_to_average"])
            replica_usd = np.where(self.batch_mode, 0.0,
                                   replica_.gpus * s.gpu.hourly_usd * s.serving.hours_per_month)
            replicas_per_rpd = np.where(self.batch_mode, 0.0,
                                        peak_tokens_per_s_per_rpd / replica_.output_tokens_per_s)
        else:  # on-device: no per-call cost; feasible if the weights fit the device
            params = self.serving_params(c)
            weight_gb = params * lookup(s.on_device.precision, BYTES_PER_PARAM) / 1e9
            facts["on_device_feasible"] = weight_gb <= s.on_device.max_weight_gb
            first_ms = input_tokens * s.on_device.prefill_ms_per_token
            call_ms = first_ms + 1000 * output_tokens / s.on_device.tokens_per_s
        # What the p95 target applies to: the first token of a streamed answer (after any earlier agent steps),
        # else the whole response.
        full = (call_ms + rag_ms) * calls_per_request
        first = (calls_per_request - 1) * (call_ms + rag_ms) + first_ms + rag_ms
        facts.update(model_params=params, first_token_ms=first, full_response_ms=full,
                     latency_ms=np.where(self.streaming, first, full))
        return Plan(cash_upfront=cash_upfront, people_upfront=people_upfront, fixed_monthly=fixed, people_monthly=people,
                    training=training, slope=slope,
                    replica_usd=replica_usd, replicas_per_rpd=replicas_per_rpd, min_replicas=s.serving.min_replicas,
                    always_on=np.asarray(c.serving == "self-host") & ~self.batch_mode, facts=facts)

    def _replica_for_latency(self, c: Candidate, params: Array, input_tokens: Array, cached: Array,
                             rag_ms: Array) -> tuple[Replica, Array]:
        """The most efficient replica whose per-call latency still meets the p95 target (interactive mode):
        halve the batch until a call is fast enough; batch mode runs the full batch. Fine-tuned and continued-
        pretrained models share a size, so each (model, retrieval) is served once."""
        key = ("prompt" if c.adaptation == "prompt" else "pretrain" if c.adaptation == "pretrain" else "tuned", c.rag)
        found = self._served.get(key)
        if found is not None:
            return found
        f, s = self.frame, self.s
        out = f["usage.output_tokens"]
        budget_ms = f["latency.p95_ms"] / f["usage.calls_per_request"] - rag_ms
        weight_bytes = lookup(s.serving.precision, BYTES_PER_PARAM)

        def at(batch: Array, gpus: Array | None = None) -> Replica:
            return replica(params, weight_bytes, s.gpu, prefill_tokens=input_tokens - cached,
                           context_tokens=input_tokens + out, output_tokens=out, batch=batch,
                           efficiency=s.serving.efficiency, memory_utilization=s.serving.memory_utilization,
                           gpus=gpus)

        r = at(s.serving.concurrency)
        ms = r.call_latency_ms(out)
        for _ in range(MAX_HALVINGS):
            done = self.batch_mode | (ms <= budget_ms) | (r.batch <= 1)
            if done.all():
                break
            smaller = at(np.where(done, r.batch, r.batch // 2), r.gpus)
            r, ms = r.where(done, smaller), np.where(done, ms, smaller.call_latency_ms(out))
        found = self._served[key] = (r, ms)
        return found

    # -- money and facts -------------------------------------------------------------------------------------------

    def figures(self, c: Candidate) -> Figures:
        found = self._figures.get(c)
        if found is None:
            found = self._figures[c] = self._figures_of(c)
        return found

    def _figures_of(self, c: Candidate) -> Figures:
        h, plan = self.horizon, self.plan(c)
        low, high = self.evidence(c)
        _, prompt_high = self._evidence(c, "prompt")
        facts = dict(plan.facts, prompt_at_most=prompt_high, replicas_first=plan.replicas(h.first), replicas_last=plan.replicas(h.last),
                     break_even_requests_per_day=np.asarray(np.nan), break_even_month=np.asarray(np.nan),
                     breaks_even=np.asarray(False), model_tier=self.tiers(c), tier_needed=np.where(self.frontier, 3.0, 2.0),
                     eval_at_least=low, eval_at_most=high)
        upfront = plan.people_upfront + plan.cash_upfront
        tco = upfront + h.total(plan)
        if c.serving == "self-host":
            v = break_even(plan, self.plan(c.api_twin))
            facts.update(break_even_requests_per_day=v, break_even_month=h.first_reaching(v),
                         breaks_even=tco < self.figures(c.api_twin).cost["tco_usd"])
        first, last = plan.monthly(h.first), plan.monthly(h.last)
        cash_first, cash_last = first - plan.people_monthly, last - plan.people_monthly
        staff = self.frame["budget.includes_staff"] == 1
        cost = {"upfront_usd": upfront, "monthly_usd_first": first, "monthly_usd_last": last, "tco_usd": tco,
                "cost_per_request_usd": ratio(tco, h.requests), "people_monthly_usd": plan.people_monthly,
                "training_usd": plan.training, "cash_monthly_usd_first": cash_first, "cash_monthly_usd_last": cash_last,
                "cash_upfront_usd": plan.cash_upfront,
                # Unit economics: the cash a request costs to serve, without salaries or one-time costs.
                "cash_per_request_usd": ratio(h.total(plan) - h.months * plan.people_monthly, h.requests),
                # What the budgets must pay: cash, and the engineering time too when they include staff.
                "spend_monthly_usd": np.where(staff, np.maximum(first, last), np.maximum(cash_first, cash_last)),
                "spend_upfront_usd": np.where(staff, upfront, plan.cash_upfront)}
        return Figures(cost=cost, facts=facts)

    def monthly_series(self, c: Candidate) -> Array:
        """Each month's cost, (month, scenario…); months past a scenario's horizon hold 0."""
        h = self.horizon
        return np.where(h.active, self.plan(c).monthly(h.volumes), 0.0)


def break_even(self_host: Plan, api: Plan) -> Array:
    """The smallest volume (requests/day) at which the self-hosted plan's monthly cost is at most its API twin's,
    NaN if there is none.

    The API costs A + a·v; self-hosting S + s·v, plus R·max(m, ⌈k·v⌉) for always-on replicas (k > 0) — solved
    segment by segment over the replica count rather than searched, so it is exact and cheap.
    """
    never = np.inf
    gap = self_host.fixed_monthly - api.fixed_monthly
    net = api.slope - self_host.slope  # what each extra request/day saves by self-hosting, before replicas
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
    gpu_hourly_usd: float


class ServingEstimate(BaseModel):
    model_config = ConfigDict(defer_build=True)  # validator built on first use: only `advisor estimate` makes one
    gpus_per_replica: int
    output_tokens_per_s: float
    usd_per_million_output_tokens: float
    batch: int
    gpu: str
    precision: str
    gpu_hourly_usd: float


class ApiEstimate(BaseModel):
    model_config = ConfigDict(defer_build=True)  # validator built on first use: only `advisor estimate` makes one
    usd: float
    model: str
    prices: str


def _positive(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise InputError(f"--{name.replace('_', '-')}: must be a positive finite number (got {value!r})")


def _gpu(catalog: Catalog, gpu: str, hourly: float) -> Gpu:
    g = catalog.gpu(gpu)
    return Gpu(id=np.array(gpu, dtype=object), bf16_tflops=np.asarray(g.bf16_tflops),
               bandwidth_tbs=np.asarray(g.bandwidth_tbs), memory_gb=np.asarray(g.memory_gb),
               hourly_usd=np.asarray(hourly))


def estimate_training(catalog: Catalog, params: float, tokens: float, gpu: str, *, mfu: float | None = None,
                      gpu_hourly_usd: float | None = None) -> TrainingEstimate:
    g = catalog.gpu(gpu)
    mfu = mfu if mfu is not None else catalog.defaults["mfu"].value
    hourly = gpu_hourly_usd if gpu_hourly_usd is not None else g.hourly_usd
    for name, value in (("params", params), ("tokens", tokens), ("mfu", mfu), ("gpu_hourly_usd", hourly)):
        _positive(name, value)
    if mfu > 1:
        raise InputError(f"--mfu: must be at most 1 (got {mfu})")
    flops = training_flops(params, tokens)
    hours = gpu_hours(flops, g.bf16_tflops, mfu)
    return TrainingEstimate(flops=flops, gpu_hours=hours, cost_usd=hours * hourly, gpu=gpu, mfu=mfu,
                            gpu_hourly_usd=hourly)


def estimate_serving(catalog: Catalog, params: float, gpu: str, precision: str, *, input_tokens: int = 1000,
                     output_tokens: int = 200, gpu_hourly_usd: float | None = None,
                     concurrency: int | None = None) -> ServingEstimate:
    g = catalog.gpu(gpu)
    if precision not in BYTES_PER_PARAM:
        raise InputError(f"--precision: must be one of {', '.join(BYTES_PER_PARAM)} (got {precision!r})")
    hourly = gpu_hourly_usd if gpu_hourly_usd is not None else g.hourly_usd
    batch = concurrency if concurrency is not None else catalog.defaults["serving_concurrency"].value
    for name, value in (("params", params), ("input_tokens", input_tokens), ("output_tokens", output_tokens),
                        ("gpu_hourly_usd", hourly), ("concurrency", batch)):
        _positive(name, value)
    r = replica(np.asarray(float(params)), np.asarray(BYTES_PER_PARAM[precision]), _gpu(catalog, gpu, hourly),
                prefill_tokens=np.asarray(float(input_tokens)),
                context_tokens=np.asarray(float(input_tokens + output_tokens)),
                output_tokens=np.asarray(float(output_tokens)), batch=np.asarray(float(batch)),
                efficiency=np.asarray(catalog.defaults["serving_efficiency"].value),
                memory_utilization=np.asarray(catalog.defaults["gpu_memory_utilization"].value))
    tokens_per_s = float(r.output_tokens_per_s)
    usd_per_m = float(r.gpus) * hourly / (tokens_per_s * 3600) * 1e6
    return ServingEstimate(gpus_per_replica=int(r.gpus), output_tokens_per_s=tokens_per_s,
                           usd_per_million_output_tokens=usd_per_m, batch=int(r.batch), gpu=gpu, precision=precision,
                           gpu_hourly_usd=hourly)


def estimate_api(prices: Prices, model: str, input_tokens: int, output_tokens: int,
                 cached_tokens: int = 0) -> ApiEstimate:
    """Price one usage of a hosted model. `input_tokens` includes `cached_tokens`."""
    from .prices import exact_usd

    for name, value in (("input_tokens", input_tokens), ("output_tokens", output_tokens),
                        ("cached_tokens", cached_tokens)):
        if not isinstance(value, int) or value < 0:
            raise InputError(f"--{name.replace('_', '-')}: must be a whole number ≥ 0 (got {value!r})")
    if cached_tokens > input_tokens:
        raise InputError(f"--cached-tokens ({cached_tokens}) cannot exceed --input-tokens ({input_tokens})")
    usd = float(exact_usd(model, input_tokens, output_tokens, cached_tokens, prices.at))
    return ApiEstimate(usd=usd, model=model, prices=prices.rates(model).describe)
