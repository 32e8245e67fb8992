"""The embedded cost model (DESIGN §6): what each candidate costs up front, every month of the horizon, in total and
per request, with the latency, memory and break-even facts the rules read.

Every figure comes from the catalog or the profile (see `advisor catalog`); the formulas are the public ones:
training FLOPs ≈ 6·N·D; serving from a roofline (decode reads every weight once per step, batching amortises the
read until compute-bound at 2·N FLOPs per token), scaled by a calibration factor measured against vLLM.
"""

import math
import operator
from dataclasses import dataclass
from functools import cache
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from . import prices
from .candidates import Candidate, all_candidates
from .catalog import GPU, Catalog, Used, gpu_hourly, load_catalog, provenance, resolve
from .errors import InputError
from .schema import Assumptions, Precision, Profile

DAYS_PER_MONTH = 365 / 12
SECONDS_PER_DAY = 86_400
BYTES_PER_PARAM: dict[str, float] = {"bf16": 2, "fp16": 2, "fp8": 1, "int8": 1, "int4": 0.5}
INFERENCE_MEMORY_FACTOR = 1.2  # inference memory ≈ 1.2 × weight bytes (cost-facts.md)
# KV cache per token in bf16, fitted through Llama-3-8B (128 KiB) and Llama-3-70B (320 KiB): 128 KiB × (N/8e9)^0.42.
KV_BYTES_8B = 128 * 1024
KV_EXPONENT = math.log(320 / 128) / math.log(70 / 8)
TENSOR_PARALLEL = (1, 2, 4, 8, 16, 32, 64)
SINGLE_NODE_GPUS = 8
NEVER = math.inf
MAX_HALVINGS = 13  # serving_concurrency ≤ 4096 = 2^12: the batch reaches 1 within 13 tries


class Scalar:
    """Arithmetic for one scenario. The cost model is written against this small namespace so that the same code
    prices many scenarios at once when handed `Vector` (numpy arrays): one model, never a vectorised copy."""

    maximum = staticmethod(max)
    minimum = staticmethod(min)
    ceil = staticmethod(math.ceil)
    floor = staticmethod(math.floor)

    @staticmethod
    def where(cond, a, b):
        return a if cond else b

    pick = where  # whole objects (replicas): one scenario takes one or the other

    logical_not = staticmethod(operator.not_)

    @staticmethod
    def all(cond) -> bool:
        return bool(cond)

    @staticmethod
    def none_if_never(value):
        return None if value == NEVER else value

    @staticmethod
    def known(value) -> bool:
        return value is not None

    @staticmethod
    def first(conds) -> int | None:
        """1 + the index of the first true condition, or None."""
        return next((i + 1 for i, c in enumerate(conds) if c), None)

    @staticmethod
    def label(describe, value) -> str:
        return describe(value)

    @staticmethod
    def ratio(a, b):
        """a / b, or None (a missing value to the rules) when b is 0 or so small the ratio is not finite."""
        r = a / b if b > 0 else None
        return r if r is None or math.isfinite(r) else None


class Vector:
    """`Scalar`'s twin over numpy arrays of scenarios (imported only by sensitivity runs: numpy is not loaded for
    one decision). Missing values are NaN, "never" is +inf, exactly where `Scalar` says None."""

    def __init__(self):
        import numpy

        self.np = numpy
        self.maximum, self.minimum, self.ceil, self.floor = numpy.maximum, numpy.minimum, numpy.ceil, numpy.floor
        self.where, self.all, self.logical_not = numpy.where, numpy.all, numpy.logical_not

    @staticmethod
    def none_if_never(value):
        return value

    def known(self, value):
        return value is not None and ~self.np.isnan(value)

    def pick(self, keep, a, b):
        """Per scenario, `a`'s fields where `keep`, else `b`'s."""
        return type(a)(*(self.np.where(keep, getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__))

    def first(self, conds):
        np = self.np
        stacked = np.array(np.broadcast_arrays(*conds))
        return np.where(stacked.any(axis=0), stacked.argmax(axis=0) + 1, np.nan)

    def label(self, describe, value):
        np = self.np
        if np.ndim(value) == 0:
            return describe(float(value))
        return np.array([describe(v) for v in value.tolist()], dtype=object)

    def ratio(self, a, b):
        np = self.np
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            r = np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)
            return np.where(np.isfinite(r), r, np.nan)


# ----------------------------------------------------------------------------------------------------------------
# Building blocks shared by the candidate model and the quick estimates
# ----------------------------------------------------------------------------------------------------------------


def training_flops(params: float, tokens: float) -> float:
    """C ≈ 6·N·D (Kaplan et al. 2020; Hoffmann et al. 2022)."""
    return 6.0 * params * tokens


def gpu_hours(flops: float, gpu: GPU, mfu: float) -> float:
    return flops / (gpu.bf16_tflops * 1e12 * mfu * 3600)


def kv_bytes_per_token(params: float) -> float:
    return KV_BYTES_8B * (params / 8e9) ** KV_EXPONENT


@dataclass(slots=True)
class Replica:
    """One serving replica of an open model: its GPUs, the batch it runs and what it delivers."""

    gpus: int
    batch: int
    output_tokens_per_s: float  # aggregate, calibrated
    step_s: float  # one decode step for the whole batch, calibrated
    prefill_s: float  # prompt processing for one request's call, calibrated

    def call_latency_ms(self, output_tokens: int) -> float:
        return 1000 * (self.prefill_s + output_tokens * self.step_s)


def replica(params: float, precision: str, gpu: GPU, *, prefill_tokens: int, context_tokens: int,
            output_tokens: int, batch: int, efficiency: float, memory_utilization: float, xp=Scalar,
            gpus: int | None = None) -> Replica:
    """Roofline throughput of the smallest tensor-parallel group that holds the weights and at least one sequence
    (`gpus`, when already known for these weights and context: it does not depend on the batch).

    Step time for a batch of b sequences is the larger of reading the weights plus b KV caches (memory-bound) and
    b tokens' compute, where each output token also carries its share of prompt prefill: 2·N·(1 + prefill/output).
    """
    weights = params * BYTES_PER_PARAM[precision]
    kv = kv_bytes_per_token(params) * context_tokens

    def usable(gpus):
        return gpus * gpu.memory_gb * 1e9 * memory_utilization

    if gpus is None:
        gpus, found = TENSOR_PARALLEL[-1], False  # the largest group when nothing smaller fits
        for g in TENSOR_PARALLEL[:-1]:
            fits = (usable(g) >= weights * INFERENCE_MEMORY_FACTOR) & (usable(g) - weights >= kv)
            gpus, found = xp.where(found, gpus, xp.where(fits, g, gpus)), found | fits
            if xp.all(found):
                break
    b = xp.maximum(1, xp.minimum(batch, xp.floor((usable(gpus) - weights) // kv)))
    bandwidth = gpus * gpu.bandwidth_tbs * 1e12
    flops = gpus * gpu.bf16_tflops * 1e12
    per_token_flops = 2.0 * params * (1 + prefill_tokens / output_tokens)
    step = xp.maximum((weights + b * kv) / bandwidth, b * per_token_flops / flops) / efficiency
    prefill = xp.maximum(weights / bandwidth, 2.0 * params * prefill_tokens / flops) / efficiency
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


class Facts(BaseModel):
    """What the cost model worked out about a candidate besides money; rules read these as `candidate.*`."""

    model_config = ConfigDict(frozen=True)
    model: str
    model_params: float | None
    latency_ms: float
    kb_in_prompt: bool
    breaks_even: bool  # some month of the horizon reaches the break-even volume
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


class Priced(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    adaptation: str
    retrieval: str
    serving: str
    cost: Cost
    facts: Facts


@dataclass(slots=True)
class _Plan:
    """A candidate's cost structure: monthly = fixed + slope·v + step(v) for v requests/day."""

    upfront: float
    fixed_monthly: float
    people_monthly: float
    training: float
    slope: float  # USD per month per request/day (API calls, vector queries, batch GPU-hours)
    replica_usd: float  # USD per month per always-on replica (0 when none)
    replicas_per_rpd: float  # replicas needed per request/day at peak
    min_replicas: int
    always_on: bool  # serves interactively from replicas that run around the clock
    facts: dict

    def replicas(self, v: float, xp=Scalar) -> int:
        if not self.always_on:
            return 0
        return xp.maximum(self.min_replicas, xp.ceil(v * self.replicas_per_rpd - 1e-9))

    def monthly(self, v: float, xp=Scalar) -> float:
        cost = self.fixed_monthly + self.slope * v
        return cost + self.replica_usd * self.replicas(v, xp) if self.always_on else cost

    def series(self, volumes: list[float]) -> list[float]:
        """`monthly` for each month's volume (one decision's month-by-month figures)."""
        return [self.monthly(v) for v in volumes]

    def total(self, volumes: list[float], volume: float, xp=Scalar) -> float:
        """The sum of `monthly` over the months, in closed form where it is linear (`volume` = the volumes' sum):
        one formula for one decision and for arrays of scenarios, without a per-month array for each."""
        cost = len(volumes) * self.fixed_monthly + self.slope * volume
        if not self.always_on:
            return cost
        return cost + self.replica_usd * sum(self.replicas(v, xp) for v in volumes)


class CostModel:
    """Prices every candidate of one profile. Built once per profile; all look-ups happen in the constructor.

    With `xp=Vector()` (and `assumptions` already resolved) the profile's numbers may be numpy arrays, one element
    per scenario, and every figure comes out as an array: how sensitivity runs price thousands of scenarios at once.
    """

    def __init__(self, profile: Profile, catalog: Catalog | None = None, *, assumptions: Assumptions | None = None,
                 xp=Scalar):
        self.profile = profile
        self.xp = xp
        self.catalog = catalog or load_catalog()
        self.a: Assumptions = assumptions or resolve(profile, self.catalog)
        self.gpu = self.catalog.gpu(self.a.gpu)
        self.gpu_hourly = gpu_hourly(self.a, self.catalog)
        self.at: datetime = self.catalog.price_timestamp
        self.used: dict[str, Used] = {}
        p = profile
        high = p.quality.accuracy != "normal"
        self.api_model = self.a.api_model_high_accuracy if high else self.a.api_model
        self.open_params = self.a.open_model_params_high_accuracy if high else self.a.open_model_params
        u = p.usage
        self.months = p.preferences.horizon_months
        self.volumes = [u.requests_per_day * (1 + u.monthly_growth) ** m for m in range(self.months)]
        self.volume_sum = sum(self.volumes)  # of the months' requests/day
        self.requests = self.volume_sum * DAYS_PER_MONTH  # over the horizon
        kb = p.data.knowledge_base_tokens
        self.kb_fits_prompt = (0 < kb) & (kb <= self.a.cached_prompt_max_tokens) & (p.data.need != "behavior")
        freshness = {"static": self.a.refresh_per_month_static, "monthly": self.a.refresh_per_month_monthly,
                     "weekly": self.a.refresh_per_month_weekly, "daily": self.a.refresh_per_month_daily,
                     "realtime": self.a.refresh_per_month_daily}
        self.refresh_rate = freshness[p.data.freshness]
        parts = ("prompt", "rag", "fine_tune", "continued_pretrain", "pretrain", "self_host", "on_device")
        self.fte = {x: getattr(self.a, f"fte_{x}") for x in parts}
        self._served: dict[tuple[str, bool], tuple[Replica, float]] = {}
        self.setup_months = {x: getattr(self.a, f"setup_months_{x}") for x in parts}

    # -- helpers ---------------------------------------------------------------------------------------------------

    def _tokens(self, c: Candidate) -> tuple[int, int]:
        """(input tokens per call, of which cached) for candidate `c`."""
        u = self.profile.usage
        if c.rag:
            return u.input_tokens + self.a.rag_context_tokens, 0
        kb = self.xp.where(self.kb_fits_prompt, self.profile.data.knowledge_base_tokens, 0)
        return u.input_tokens + kb, kb

    def pretrain_size(self) -> tuple[float, float]:
        """(parameters, tokens) of a from-scratch model: Chinchilla-sized to the corpus (D ≈ 20·N) within 1B–70B
        unless `assumptions.pretrain_params` fixes N; a corpus below 20·N is topped up with public data."""
        corpus, xp = self.profile.data.unlabeled_tokens, self.xp
        n = self.a.pretrain_params
        if n is None:
            n = xp.minimum(xp.maximum(corpus / 20, 1e9), 70e9)
        return n, xp.maximum(corpus * 1.0, 20 * n)

    def _sft_tokens(self, c: Candidate) -> float:
        u = self.profile.usage
        extra = self.a.rag_context_tokens if c.rag else 0  # RAFT: train with the retrieved documents in context
        return self.profile.data.labeled_examples * (u.input_tokens + extra + u.output_tokens) * self.a.fine_tune_epochs

    def _train_open(self, params: float, tokens: float) -> tuple[float, float]:
        hours = gpu_hours(training_flops(params, tokens), self.gpu, self.a.mfu)
        return hours, hours * self.gpu_hourly

    def _serving_params(self, c: Candidate) -> float:
        if c.adaptation == "pretrain":
            return self.pretrain_size()[0]
        if c.serving == "on-device":
            return self.a.on_device_model_params
        return self.open_params if c.adaptation == "prompt" else self.a.fine_tuned_model_params

    # -- the plan of one candidate ---------------------------------------------------------------------------------

    def plan(self, c: Candidate) -> _Plan:
        p, a = self.profile, self.a
        u = p.usage
        calls_per_month_per_rpd = DAYS_PER_MONTH * u.calls_per_request
        input_tokens, cached = self._tokens(c)
        eng = a.engineer_monthly_usd
        parts = _parts(c)
        people = eng * sum(self.fte[x] for x in parts)
        upfront = eng * sum(self.setup_months[x] for x in parts)
        fixed = people
        slope = 0.0
        facts: dict = {"kb_in_prompt": not c.rag and self.kb_fits_prompt, "memory_fits": True,
                       "on_device_feasible": False, "gpus_per_replica": 0, "replica_output_tokens_per_s": None,
                       "training_gpu_hours": 0.0}

        # Retrieval: embed the knowledge base once and at each refresh; a managed vector store; a query per call.
        kb = p.data.knowledge_base_tokens
        if c.rag:
            embed = kb / 1e6 * a.embedding_usd_per_mtok
            upfront += embed
            fixed += embed * self.refresh_rate
            if c.serving != "on-device":  # on device the index lives locally
                gb = kb / a.rag_chunk_tokens * a.embedding_dimensions * 4 / 1e9
                fixed += a.vector_store_base_monthly_usd + gb * a.vector_store_usd_per_gb_month
                slope += calls_per_month_per_rpd * a.vector_store_usd_per_million_queries / 1e6

        # Training: one-time run(s), and retraining when the knowledge a model holds goes stale.
        sft_tokens = self._sft_tokens(c)
        # A model that must hold changing knowledge itself (no retrieval) is retrained as fast as the data changes.
        holds_knowledge = not c.rag and p.data.need != "behavior"
        retrains = self.refresh_rate if holds_knowledge else a.refresh_per_month_static
        training = 0.0
        if c.adaptation != "prompt":
            if c.serving == "api":
                ft = self.catalog.fine_tune_prices(a.fine_tune_api_model)
                sft_usd = sft_tokens / 1e6 * ft.training_usd_per_mtok * a.api_price_factor
            else:
                hours, sft_usd = self._train_open(self._serving_params(c), sft_tokens)
                facts["training_gpu_hours"] += hours
            training += sft_usd
            fixed += sft_usd * retrains
            if c.adaptation == "continued-pretrain":
                hours, usd = self._train_open(self._serving_params(c), p.data.unlabeled_tokens)
                facts["training_gpu_hours"] += hours
                training += usd
            elif c.adaptation == "pretrain":
                hours, usd = self._train_open(*self.pretrain_size())
                facts["training_gpu_hours"] += hours
                training += usd
        upfront += training

        # Serving.
        rag_ms = a.rag_latency_ms if c.rag else 0.0
        replica_usd = replicas_per_rpd = 0.0
        if c.serving == "api":
            if c.adaptation == "fine-tune":
                ft = self.catalog.fine_tune_prices(a.fine_tune_api_model)
                per_call = ((input_tokens - cached) * ft.input_usd_per_mtok + cached * ft.cached_input_usd_per_mtok
                            + u.output_tokens * ft.output_usd_per_mtok) / 1e6
                model, params = f"{a.fine_tune_api_model} fine-tuned (hosted)", None
            else:
                per_call = self._api_call_usd(input_tokens, cached)
                model, params = f"{self.api_model} (hosted)", None
            slope += calls_per_month_per_rpd * per_call * a.api_price_factor
            call_ms = a.api_ttft_ms + 1000 * u.output_tokens / a.api_output_tokens_per_s
        elif c.serving == "self-host":
            params = self._serving_params(c)
            # Fine-tuned and continued-pretrained models share a size: serve each (size, retrieval) once.
            key = ("prompt" if c.adaptation == "prompt" else "pretrain" if c.adaptation == "pretrain" else "tuned", c.rag)
            if key not in self._served:
                self._served[key] = self._replica_for_latency(params, input_tokens, cached, rag_ms)
            r, call_ms = self._served[key]
            model = self.xp.label(lambda n: f"open {n / 1e9:g}B {a.precision} on {a.gpu}", params)
            facts.update(gpus_per_replica=r.gpus, replica_output_tokens_per_s=r.output_tokens_per_s,
                         memory_fits=r.gpus <= SINGLE_NODE_GPUS)
            if p.latency.mode == "batch":  # rent GPUs for the hours the work takes
                tokens_per_month_per_rpd = calls_per_month_per_rpd * u.output_tokens
                slope += tokens_per_month_per_rpd / r.output_tokens_per_s / 3600 * r.gpus * self.gpu_hourly
            else:
                replica_usd = r.gpus * self.gpu_hourly * a.hours_per_month
                peak_tokens_per_s_per_rpd = u.calls_per_request * u.output_tokens / SECONDS_PER_DAY * u.peak_to_average
                replicas_per_rpd = peak_tokens_per_s_per_rpd / r.output_tokens_per_s
        else:  # on-device: no per-call cost; feasible if the weights fit the device
            params = self._serving_params(c)
            precision = a.on_device_precision
            weight_gb = params * BYTES_PER_PARAM[precision] / 1e9
            facts["on_device_feasible"] = weight_gb <= a.on_device_max_weight_gb
            model = self.xp.label(lambda n: f"on-device {n / 1e9:g}B {precision} "
                                  f"({n * BYTES_PER_PARAM[precision] / 1e9:.1f} GB)", params)
            call_ms = (input_tokens * a.on_device_prefill_ms_per_token
                       + 1000 * u.output_tokens / a.on_device_tokens_per_s)
        facts.update(model=model, model_params=params,
                     latency_ms=(call_ms + rag_ms) * u.calls_per_request)
        return _Plan(upfront=upfront, fixed_monthly=fixed, people_monthly=people, training=training, slope=slope,
                     replica_usd=replica_usd, replicas_per_rpd=replicas_per_rpd, min_replicas=a.min_replicas,
                     always_on=c.serving == "self-host" and p.latency.mode != "batch", facts=facts)

    def _api_call_usd(self, input_tokens, cached):
        return prices.call_usd(self.api_model, input_tokens, self.profile.usage.output_tokens, cached, self.at)

    def _replica_for_latency(self, params: float, input_tokens: int, cached: int,
                             rag_ms: float) -> tuple[Replica, float]:
        """The most efficient replica whose per-call latency still meets the p95 target (interactive mode):
        halve the batch until a call is fast enough; batch mode runs the full batch."""
        a, p, xp = self.a, self.profile, self.xp
        out = p.usage.output_tokens
        budget_ms = p.latency.p95_ms / p.usage.calls_per_request - rag_ms

        def at(batch, gpus=None):
            return replica(params, a.precision, self.gpu, prefill_tokens=input_tokens - cached,
                           context_tokens=input_tokens + out, output_tokens=out, batch=batch,
                           efficiency=a.serving_efficiency, memory_utilization=a.gpu_memory_utilization, xp=xp,
                           gpus=gpus)

        r = at(a.serving_concurrency)
        ms = r.call_latency_ms(out)
        if p.latency.mode == "batch":
            return r, ms
        for _ in range(MAX_HALVINGS):
            done = (ms <= budget_ms) | (r.batch <= 1)
            if xp.all(done):
                break
            smaller = at(xp.where(done, r.batch, r.batch // 2), r.gpus)
            r, ms = xp.pick(done, r, smaller), xp.where(done, ms, smaller.call_latency_ms(out))
        return r, ms

    # -- all candidates --------------------------------------------------------------------------------------------

    def figures(self, only: frozenset[Candidate] | None = None, *, by_month: bool = True
                ) -> list[tuple[Candidate, dict[str, Any], dict[str, Any]]]:
        """Every candidate (or those in `only`) with its cost and facts as plain values — arrays under `Vector` —
        which `price_all` wraps in models. `by_month=False` leaves out the month-by-month series (`monthly_usd` is
        None): a ranking needs only the totals."""
        candidates = all_candidates()
        plans: dict[int, _Plan] = {}

        def plan(i: int) -> _Plan:
            if i not in plans:
                plans[i] = self.plan(candidates[i])
            return plans[i]

        return [(c, *self._figures(c, plan(i), None if t is None else plan(t), by_month))
                for i, (c, t) in enumerate(zip(candidates, _twins())) if only is None or c in only]

    def price_all(self) -> dict[str, Priced]:
        return {c.id: Priced(id=c.id, adaptation=c.adaptation, retrieval=c.retrieval, serving=c.serving,
                             cost=Cost(**cost), facts=Facts(**facts))
                for c, cost, facts in self.figures()}

    def _figures(self, c: Candidate, plan: _Plan, twin: _Plan | None, by_month: bool
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
        xp, volumes = self.xp, self.volumes
        tco = plan.upfront + plan.total(volumes, self.volume_sum, xp)
        facts = dict(plan.facts, replicas_first=plan.replicas(volumes[0], xp),
                     replicas_last=plan.replicas(volumes[-1], xp), api_twin=None,
                     break_even_requests_per_day=None, break_even_month=None)
        if c.serving == "self-host" and twin is not None:
            v = break_even(plan, twin, xp)
            facts.update(api_twin=c.api_twin.id, break_even_requests_per_day=v,
                         break_even_month=None if v is None else xp.first([vol >= v for vol in volumes]))
        facts["breaks_even"] = xp.known(facts["break_even_month"])
        cost = dict(upfront_usd=plan.upfront, monthly_usd_first=plan.monthly(volumes[0], xp),
                    monthly_usd_last=plan.monthly(volumes[-1], xp), tco_usd=tco,
                    cost_per_request_usd=xp.ratio(tco, self.requests),
                    monthly_usd=plan.series(volumes) if by_month else None,
                    people_monthly_usd=plan.people_monthly, training_usd=plan.training)
        return cost, facts

    def assumptions_used(self) -> list[Used]:
        """Every default and price the model used, with its source and date, in a stable order."""
        out = [provenance(name, self.profile, self.catalog, value)
               for name, value in self.a.model_dump().items() if value is not None]
        g = self.gpu
        out.append(Used(name=f"gpu.{self.a.gpu}", value=f"{g.name}: {g.bf16_tflops:g} TFLOP/s BF16, "
                        f"{g.bandwidth_tbs:g} TB/s, {g.memory_gb:g} GB", source=g.source, date=g.date))
        out.append(provenance("gpu_hourly_usd", self.profile, self.catalog, self.gpu_hourly)
                   if self.a.gpu_hourly_usd else
                   Used(name="gpu_hourly_usd", value=g.hourly_usd, source=g.source, date=g.date))
        for model in dict.fromkeys((self.api_model,)):
            out.append(Used(name=f"api_price.{model}", value=prices.describe(model, self.at),
                            source=f"genai-prices {prices.version()}, prices in force at {self.at:%Y-%m-%d}",
                            date=f"{self.at:%Y-%m-%d}"))
        ft = self.catalog.fine_tune_prices(self.a.fine_tune_api_model)
        out.append(Used(name=f"fine_tune_price.{self.a.fine_tune_api_model}",
                        value=f"training ${ft.training_usd_per_mtok:g}/M tokens; input ${ft.input_usd_per_mtok:g}/M, "
                              f"cached ${ft.cached_input_usd_per_mtok:g}/M, output ${ft.output_usd_per_mtok:g}/M",
                        source=ft.source, date=ft.date))
        return out


@cache
def _parts(c: Candidate) -> tuple[str, ...]:
    """The pieces of work a candidate takes, each with its engineers (`fte_*`) and build time (`setup_months_*`)."""
    adaptation = {"prompt": (), "fine-tune": ("fine_tune",), "continued-pretrain": ("continued_pretrain", "fine_tune"),
                  "pretrain": ("pretrain", "fine_tune")}[c.adaptation]
    serving = {"api": (), "self-host": ("self_host",), "on-device": ("on_device",)}[c.serving]
    return ("prompt", *(("rag",) if c.rag else ()), *adaptation, *serving)


@cache
def _twins() -> tuple[int | None, ...]:
    """For each candidate (in `all_candidates` order), the index of the API twin it breaks even against."""
    candidates = all_candidates()
    return tuple(candidates.index(c.api_twin) if c.serving != "api" else None for c in candidates)


def break_even(self_host: _Plan, api: _Plan, xp=Scalar) -> float | None:
    """The smallest volume (requests/day) at which the self-hosted plan's monthly cost is at most its API twin's
    (None — +inf under `Vector` — if there is none).

    The API costs A + a·v; self-hosting S + s·v + R·max(m, ⌈k·v⌉) (always-on replicas, k > 0) — solved segment by
    segment over the replica count rather than searched, so it is exact and cheap.
    """
    gap = self_host.fixed_monthly - api.fixed_monthly
    net = api.slope - self_host.slope  # what each extra request/day saves by self-hosting, before replicas
    per_net = xp.where(net > 0, net, 1)  # a safe divisor; results where net <= 0 are masked out
    if not self_host.always_on:  # linear: batch mode
        return xp.none_if_never(xp.where(gap <= 0, 0.0, xp.where(net > 0, gap / per_net, NEVER)))
    k, rc, m = self_host.replicas_per_rpd, self_host.replica_usd, self_host.min_replicas

    def crossing(n):
        """Where the costs cross while n replicas run, and whether that volume really needs only n."""
        v = xp.maximum(xp.where(n == m, 0.0, (n - 1) / k), (gap + rc * n) / per_net)
        return v, (net > 0) & (v <= n / k)

    v, found = crossing(m)
    result = xp.where(found, v, NEVER)
    gain = net / k - rc  # what one more replica's worth of volume saves; none if the replica costs more
    n0 = xp.maximum(m + 1, xp.ceil(gap / xp.where(gain > 0, gain, 1)))
    for step in (-1, 0, 1, 2):
        if xp.all(found):
            break
        v, ok = crossing(xp.maximum(m + 1, n0 + step))
        take = xp.logical_not(found) & (gain > 0) & ok
        result, found = xp.where(take, v, result), found | take
    return xp.none_if_never(result)


def price(profile: Profile, catalog: Catalog | None = None) -> dict[str, Priced]:
    """Price every candidate of `profile` (the library call behind `advisor costs`)."""
    return CostModel(profile, catalog).price_all()


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


def _default(catalog: Catalog, name: str):
    return catalog.defaults[name].value


def estimate_training(params: float, tokens: float, gpu: str, *, mfu: float | None = None,
                      gpu_hourly_usd: float | None = None, catalog: Catalog | None = None) -> TrainingEstimate:
    catalog = catalog or load_catalog()
    g = catalog.gpu(gpu)
    mfu = mfu if mfu is not None else _default(catalog, "mfu")
    hourly = gpu_hourly_usd if gpu_hourly_usd is not None else g.hourly_usd
    for name, value in (("params", params), ("tokens", tokens), ("mfu", mfu), ("gpu_hourly_usd", hourly)):
        _positive(name, value)
    if mfu > 1:
        raise InputError(f"--mfu: must be at most 1 (got {mfu})")
    flops = training_flops(params, tokens)
    hours = gpu_hours(flops, g, mfu)
    return TrainingEstimate(flops=flops, gpu_hours=hours, cost_usd=hours * hourly, gpu=gpu, mfu=mfu,
                            gpu_hourly_usd=hourly)


def estimate_serving(params: float, gpu: str, precision: Precision, *, input_tokens: int = 1000,
                     output_tokens: int = 200, gpu_hourly_usd: float | None = None, concurrency: int | None = None,
                     catalog: Catalog | None = None) -> ServingEstimate:
    catalog = catalog or load_catalog()
    g = catalog.gpu(gpu)
    if precision not in BYTES_PER_PARAM:
        raise InputError(f"--precision: must be one of {', '.join(BYTES_PER_PARAM)} (got {precision!r})")
    hourly = gpu_hourly_usd if gpu_hourly_usd is not None else g.hourly_usd
    batch = concurrency if concurrency is not None else _default(catalog, "serving_concurrency")
    for name, value in (("params", params), ("input_tokens", input_tokens), ("output_tokens", output_tokens),
                        ("gpu_hourly_usd", hourly), ("concurrency", batch)):
        _positive(name, value)
    r = replica(params, precision, g, prefill_tokens=input_tokens, context_tokens=input_tokens + output_tokens,
                output_tokens=output_tokens, batch=int(batch), efficiency=_default(catalog, "serving_efficiency"),
                memory_utilization=_default(catalog, "gpu_memory_utilization"))
    usd_per_m = r.gpus * hourly / (r.output_tokens_per_s * 3600) * 1e6
    return ServingEstimate(gpus_per_replica=r.gpus, output_tokens_per_s=r.output_tokens_per_s,
                           usd_per_million_output_tokens=usd_per_m, batch=r.batch, gpu=gpu, precision=precision,
                           gpu_hourly_usd=hourly)


def estimate_api(model: str, input_tokens: int, output_tokens: int, cached_tokens: int = 0,
                 catalog: Catalog | None = None) -> ApiEstimate:
    """Price one usage of a hosted model. `input_tokens` includes `cached_tokens`."""
    catalog = catalog or load_catalog()
    for name, value in (("input_tokens", input_tokens), ("output_tokens", output_tokens),
                        ("cached_tokens", cached_tokens)):
        if not isinstance(value, int) or value < 0:
            raise InputError(f"--{name.replace('_', '-')}: must be a whole number ≥ 0 (got {value!r})")
    if cached_tokens > input_tokens:
        raise InputError(f"--cached-tokens ({cached_tokens}) cannot exceed --input-tokens ({input_tokens})")
    at = catalog.price_timestamp
    usd = prices.price_usage(model, input_tokens, output_tokens, cached_tokens, at)
    return ApiEstimate(usd=usd, model=model, prices=prices.describe(model, at))


