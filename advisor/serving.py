"""Inference speed: self-hosted replicas, hosted APIs and devices (DESIGN §6, second edition).

- Self-hosted: a calibrated roofline per replica. A decode step reads the weights once and each sequence's KV cache
  (memory-bound), or computes 2·N FLOPs per sequence (compute-bound), whichever is slower, plus a fixed step
  overhead; prefill computes 2·N FLOPs per uncached prompt token. Tensor parallelism spreads the work over g GPUs at
  a communication loss per doubling (larger over PCIe than NVLink). The efficiencies are fitted to published vLLM,
  TensorRT-LLM and NIM measurements (`tests/calibration/serving.toml`; the README gives the method and the error).
  `search` picks, for every scenario, the cheapest replica — tensor-parallel width, precision and batch — that meets
  the latency target; when none does, latency fails (the fastest replica is reported, never a silent fallback).
- Hosted APIs: a sourced per-model table of median time to first token and output speed, time to first token
  growing with the prompt; p95 is a sourced multiple of the median. A model the table lacks takes its provider's
  figures for its tier, else its tier's, and says so.
- Devices: decode is bandwidth-bound (device bandwidth ÷ weight bytes), prefill compute-bound.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np

from .catalog import ApiLatency, Catalog, LatencyModel
from .frame import Array
from .settings import Gpu

BYTES_PER_PARAM: dict[str, float] = {"bf16": 2, "fp16": 2, "fp8": 1, "int8": 1, "int4": 0.5}
SEARCHED_PRECISIONS = ("bf16", "fp8")  # what the search tries when the profile names no precision
# KV cache per token in bf16, fitted through Llama-3-8B (128 KiB) and Llama-3-70B (320 KiB): 128 KiB × (N/8e9)^0.42
# (grouped-query attention, as every reference open model uses).
KV_BYTES_8B = 128 * 1024
KV_EXPONENT = math.log(320 / 128) / math.log(70 / 8)
NODE_GPUS = 8
TENSOR_PARALLEL = (1, 2, 4, 8, 16, 32, 64)  # beyond a node (8) only for models no node holds
BATCHES = tuple(2**k for k in range(13))  # 1 … 4096 sequences in flight


def kv_bytes_per_token(params: Array, precision: str | Array) -> Array:
    """KV-cache bytes per token of context: FP8 weights keep an FP8 cache (as vLLM and TensorRT-LLM do), the rest
    bf16."""
    fp8 = np.equal(precision, "fp8")
    return np.asarray(KV_BYTES_8B * np.float_power(params / 8e9, KV_EXPONENT) * np.where(fp8, 0.5, 1.0))


def _bytes(precision: str | Array) -> Array:
    if isinstance(precision, str):
        return np.asarray(BYTES_PER_PARAM[precision])
    return np.asarray(np.vectorize(BYTES_PER_PARAM.__getitem__, otypes=[float])(precision))


def p95_ms(ttft_ms: Array, generation_ms: Array, latency: LatencyModel) -> Array:
    """A call's p95 from its medians: each part at its sourced p95/median multiple."""
    return np.asarray(ttft_ms * latency.ttft_p95_over_median + generation_ms * latency.generation_p95_over_median)


def request_ms(calls: Array, ttft_ms: Array, generation_ms: Array, extra_ms: Array,
               latency: LatencyModel) -> tuple[Array, Array]:
    """(p95 to the last call's first token, p95 to the last token) of a request of `calls` sequential calls of the
    given median time to first token and generation time, each after `extra_ms` (retrieval). Independent calls'
    delays add, but their tails do not all coincide: the request's p95 is the sum of the medians plus the calls'
    p95-over-median excesses added in quadrature (as standard deviations of independent delays add)."""
    with np.errstate(over="ignore", invalid="ignore"):
        first_excess = ttft_ms * (latency.ttft_p95_over_median - 1)
        call_excess = first_excess + generation_ms * (latency.generation_p95_over_median - 1)
        call = ttft_ms + generation_ms + extra_ms
        first = (calls - 1) * call + ttft_ms + extra_ms + np.sqrt((calls - 1) * call_excess**2 + first_excess**2)
        full = calls * call + np.sqrt(calls) * call_excess
    return np.asarray(first), np.asarray(full)


@dataclass(frozen=True)
class Speed:
    """A replica's figures at one batch: NaN where the weights and one sequence do not fit."""

    output_tokens_per_s: Array  # the whole replica
    ttft_s: Array
    tpot_s: Array  # time per output token of one sequence
    max_batch: Array  # the most sequences that fit in memory


def figures(params: Array, precision: str | Array, gpu: Gpu, gpus: int | Array, batch: Array, *,
            prompt_tokens: Array, cached_tokens: Array, output_tokens: Array, catalog: Catalog,
            memory_utilization: Array, efficiency: Array, kv_bytes: Array | None = None,
            ignore_memory: bool = False) -> Speed:
    """A replica of `gpus` GPUs at `precision` running `batch` sequences (each may be an array of configurations
    that broadcasts with the scenarios). `kv_bytes`: KV bytes per token when the model's own architecture is known
    (calibration), else the GQA fit. `ignore_memory`: the figures as if it fit (for a model nothing holds)."""
    cal = catalog.serving
    weights = params * _bytes(precision)
    kv = kv_bytes if kv_bytes is not None else kv_bytes_per_token(params, precision)
    context = prompt_tokens + output_tokens
    usable = gpus * gpu.memory_gb * 1e9 * memory_utilization
    with np.errstate(divide="ignore", invalid="ignore"):
        fits_max = np.floor((usable - weights) / (kv * context))
    b = batch if ignore_memory else np.minimum(batch, fits_max)
    tp = np.maximum(1 - gpu.tp_loss * np.log2(gpus), 0.05) * gpu.software_efficiency * efficiency
    fp8 = np.equal(precision, "fp8")
    peak = np.where(fp8 & ~np.isnan(gpu.fp8_tflops), gpu.fp8_tflops, gpu.bf16_tflops) * 1e12 * gpus
    bandwidth = gpu.bandwidth_tbs * 1e12 * gpus * cal.bandwidth_efficiency * tp
    decode_flops = peak * cal.compute_efficiency * tp
    prefill_flops = peak * cal.prefill_efficiency * tp
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        step = cal.step_overhead_ms / 1000 + np.maximum(
            weights / bandwidth + b * kv * (prompt_tokens + output_tokens / 2) / bandwidth,
            b * 2 * params / decode_flops)
        prefill = np.maximum(2 * params * np.maximum(prompt_tokens - cached_tokens, 1) / prefill_flops,
                             weights / bandwidth)
        throughput = b * output_tokens / (b * prefill + output_tokens * step)
        ttft = prefill * (1 + cal.queue_factor * np.sqrt(np.maximum(b - 1, 0)))
        tpot = step + (b - 1) * prefill / output_tokens
    ok = b >= 1
    return Speed(output_tokens_per_s=np.where(ok, throughput, np.nan), ttft_s=np.where(ok, ttft, np.nan),
                 tpot_s=np.where(ok, tpot, np.nan), max_batch=np.where(fits_max >= 1, fits_max, np.nan))


@dataclass(frozen=True)
class Replica:
    """The replica the search chose per scenario: its configuration and what it delivers."""

    gpus: Array
    precision: Array  # text
    batch: Array
    output_tokens_per_s: Array  # the whole replica
    ttft_ms: Array  # median
    tpot_ms: Array  # median, per sequence
    first_token_ms: Array  # p95 of a request, to its last call's first token (retrieval included)
    full_response_ms: Array  # p95 of a request, to its last token
    meets: Array  # the latency target is met
    fits: Array  # some configuration holds the weights and one request's context (else the figures are the
    #              widest replica's as if it did: the candidate is ruled out, but its numbers stay finite)


def search(params: Array, gpu: Gpu, *, allowed: Mapping[str, Array], prompt_tokens: Array, cached_tokens: Array,
           output_tokens: Array, calls: Array, extra_ms: Array, streaming: Array, target_ms: Array,
           demand_tokens_per_s: Array, min_replicas: Array, max_batch: Array, batch_mode: Array,
           memory_utilization: Array, efficiency: Array, catalog: Catalog) -> Replica:
    """The cheapest replica per scenario that meets the latency target at the demand: every tensor-parallel width,
    allowed precision and batch (powers of two up to what memory and `max_batch` allow) is priced as the replicas the
    demand needs (at least `min_replicas`; a batch job rents GPU-hours and has no target) and the cheapest that meets
    the target wins; where none does, the fastest (one sequence at a time) is returned with `meets` false.

    A request's latency: `calls` model calls with `extra_ms` each (retrieval); a streamed answer counts to the last
    call's first token, the rest to its last, at p95 (`request_ms`)."""
    lat = catalog.latency_model
    shape = np.broadcast_shapes(*(np.shape(x) for x in (params, target_ms, demand_tokens_per_s, gpu.hourly_usd,
                                                         prompt_tokens, output_tokens, calls, streaming)))
    target = np.where(batch_mode, np.inf, target_ms)
    node = [g for g in TENSOR_PARALLEL if g <= NODE_GPUS]
    found = _search(node, allowed, shape, params, gpu, target, prompt_tokens=prompt_tokens,
                    cached_tokens=cached_tokens, output_tokens=output_tokens, calls=calls, extra_ms=extra_ms,
                    streaming=streaming, demand_tokens_per_s=demand_tokens_per_s, min_replicas=min_replicas,
                    max_batch=max_batch, batch_mode=batch_mode, memory_utilization=memory_utilization,
                    efficiency=efficiency, catalog=catalog, lat=lat)
    if np.isnan(found.gpus).any():  # some model no node holds: multi-node replicas too, for those scenarios only
        wide = _search(list(TENSOR_PARALLEL), allowed, shape, params, gpu, target, prompt_tokens=prompt_tokens,
                       cached_tokens=cached_tokens, output_tokens=output_tokens, calls=calls, extra_ms=extra_ms,
                       streaming=streaming, demand_tokens_per_s=demand_tokens_per_s, min_replicas=min_replicas,
                       max_batch=max_batch, batch_mode=batch_mode, memory_utilization=memory_utilization,
                       efficiency=efficiency, catalog=catalog, lat=lat)
        found = _where(np.isnan(found.gpus), wide, found)
    if np.isnan(found.gpus).any():  # nothing holds it: the widest replica's figures as if it did, one at a time
        speed = figures(params, "fp8", gpu, TENSOR_PARALLEL[-1], np.asarray(1.0), prompt_tokens=prompt_tokens,
                        cached_tokens=cached_tokens, output_tokens=output_tokens, catalog=catalog,
                        memory_utilization=memory_utilization, efficiency=efficiency, ignore_memory=True)
        ttft_ms, tpot_ms = 1000 * speed.ttft_s, 1000 * speed.tpot_s
        first, full = request_ms(calls, ttft_ms, output_tokens * tpot_ms, extra_ms, lat)
        alone = Replica(gpus=np.asarray(float(TENSOR_PARALLEL[-1])), precision=np.asarray("fp8", dtype=object),
                        batch=np.asarray(1.0), output_tokens_per_s=speed.output_tokens_per_s, ttft_ms=ttft_ms,
                        tpot_ms=tpot_ms, first_token_ms=first, full_response_ms=full, meets=np.asarray(False),
                        fits=np.asarray(False))
        found = _where(np.isnan(found.gpus), alone, found)
    return found


def _where(chosen: Array, a: Replica, b: Replica) -> Replica:
    """Per scenario, `a`'s replica where `chosen`, else `b`'s: each scenario's search is its own."""
    return Replica(**{f.name: np.where(chosen, getattr(a, f.name), getattr(b, f.name)) for f in fields(Replica)})


GROUP_CELLS = 200_000  # configurations × batches × scenarios priced at once: fewer numpy calls, bounded memory


def _search(widths: list[int], allowed: Mapping[str, Array], shape: tuple[int, ...], params: Array, gpu: Gpu,
            target: Array, *, prompt_tokens: Array, cached_tokens: Array, output_tokens: Array, calls: Array,
            extra_ms: Array, streaming: Array, demand_tokens_per_s: Array, min_replicas: Array, max_batch: Array,
            batch_mode: Array, memory_utilization: Array, efficiency: Array, catalog: Catalog,
            lat: LatencyModel) -> Replica:
    """`search` over the given widths: configurations in groups, each group × batch × scenario as one array (axis 0
    the configuration, axis 1 the batch); the cheapest that meets the target and the fastest kept across groups."""
    configs = [(g, p) for g in widths for p in allowed]
    tail = (1,) * len(shape)
    batches = np.array(BATCHES, dtype=float).reshape((1, -1, *tail))
    keys = ("gpus", "precision", "batch", "tps", "ttft", "tpot", "first", "full")
    best = {k: np.full(shape, None if k == "precision" else np.nan, dtype=object if k == "precision" else float)
            for k in keys}
    quick = {k: v.copy() for k, v in best.items()}
    best_cost, quickest = np.full(shape, np.inf), np.full(shape, np.inf)
    size = max(1, GROUP_CELLS // (len(BATCHES) * max(1, math.prod(shape))))
    for start in range(0, len(configs), size):
        group = configs[start:start + size]
        gpus = np.array([g for g, _ in group], dtype=float).reshape((-1, 1, *tail))
        precision = np.array([p for _, p in group], dtype=object).reshape((-1, 1, *tail))
        ok = np.stack([np.broadcast_to(allowed[p], shape) for _, p in group]).reshape((-1, 1, *shape))
        speed = figures(params, precision, gpu, gpus, np.minimum(batches, max_batch), prompt_tokens=prompt_tokens,
                        cached_tokens=cached_tokens, output_tokens=output_tokens, catalog=catalog,
                        memory_utilization=memory_utilization, efficiency=efficiency)
        full_shape = np.broadcast_shapes(speed.output_tokens_per_s.shape, (len(group), len(BATCHES), *shape))
        ttft_ms, tpot_ms = 1000 * speed.ttft_s, 1000 * speed.tpot_s
        first, full = request_ms(calls, ttft_ms, output_tokens * tpot_ms, extra_ms, lat)
        values = {"gpus": gpus, "precision": precision,
                  "batch": np.minimum(np.minimum(batches, max_batch), speed.max_batch),
                  "tps": speed.output_tokens_per_s, "ttft": ttft_ms, "tpot": tpot_ms, "first": first, "full": full}
        latency = np.where(streaming, values["first"], values["full"])
        with np.errstate(invalid="ignore", divide="ignore"):
            usable = ok & ~np.isnan(latency)
            needed = demand_tokens_per_s / speed.output_tokens_per_s
            replicas = np.where(batch_mode, needed, np.maximum(min_replicas, np.ceil(needed - 1e-9)))
            cost = np.where(usable & (latency <= target), replicas * gpus * gpu.hourly_usd, np.inf)
        flat = (len(group) * len(BATCHES), *shape)
        cost = np.broadcast_to(np.where(np.isnan(cost), np.inf, cost), full_shape).reshape(flat)
        one = np.broadcast_to(np.where(usable, latency, np.inf), full_shape)[:, 0]  # one sequence at a time
        cheapest = np.argmin(cost, axis=0)[None]
        fastest = (np.argmin(one, axis=0) * len(BATCHES))[None]
        group_cost = np.take_along_axis(cost, cheapest, 0)[0]
        group_quick = np.min(one, axis=0)
        better, quicker = group_cost < best_cost, group_quick < quickest
        for k, v in values.items():
            v = np.broadcast_to(v, full_shape).reshape(flat)
            best[k] = np.where(better, np.take_along_axis(v, cheapest, 0)[0], best[k])
            quick[k] = np.where(quicker, np.take_along_axis(v, fastest, 0)[0], quick[k])
        best_cost, quickest = np.minimum(best_cost, group_cost), np.minimum(quickest, group_quick)
    meets = np.isfinite(best_cost)
    out = {k: np.where(meets, best[k], quick[k]) for k in keys}
    return Replica(gpus=out["gpus"], precision=out["precision"], batch=out["batch"], output_tokens_per_s=out["tps"],
                   ttft_ms=out["ttft"], tpot_ms=out["tpot"], first_token_ms=out["first"],
                   full_response_ms=out["full"], meets=meets, fits=np.isfinite(quickest))


# ----------------------------------------------------------------------------------------------------------------
# Hosted APIs
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiSpeed:
    """A hosted model's median speed and where it comes from."""

    ttft_ms: float
    output_tokens_per_s: float
    input_tokens: int  # the prompt length the median was measured at
    basis: str  # "measured: <source>" or the fallback taken


def api_speed(catalog: Catalog, model: str, tier: int | None, provider: str | None) -> ApiSpeed:
    """`model`'s figures from the latency table; else the median of its provider's models of its tier; else of
    all models of its tier; else of the whole table."""
    table = catalog.api_latency
    entry = table.get(model)
    if entry is not None:
        return ApiSpeed(entry.ttft_ms, entry.output_tokens_per_s, entry.input_tokens, f"measured: {entry.source}")

    def tier_of(name: str) -> int | None:
        found = catalog.hosted_models.get(name)
        return found.tier if found else catalog.tier(name)

    def median(entries: list[ApiLatency], basis: str) -> ApiSpeed:
        return ApiSpeed(statistics.median(e.ttft_ms for e in entries),
                        statistics.median(e.output_tokens_per_s for e in entries),
                        int(statistics.median(e.input_tokens for e in entries)),
                        f"{basis} (median of {', '.join(sorted(n for n, e in table.items() if e in entries))}); "
                        f"{model} is not in the latency table")

    same_tier = [e for name, e in table.items() if tier is not None and tier_of(name) == tier]
    if provider is not None:
        ours = [e for name, e in table.items() if e in same_tier and provider_of(name, catalog) == provider]
        if ours:
            return median(ours, f"{provider}'s tier-{tier} models")
    if same_tier:
        return median(same_tier, f"tier-{tier} models")
    return median(list(table.values()), "all measured models")


def provider_of(model: str, catalog: Catalog) -> str | None:
    """The provider a table id names: `groq:…` explicitly, else the catalog's hosted-model entry's."""
    found = catalog.hosted_models.get(model)
    return found.provider if found else None


def api_latency(speed_ttft_ms: Array, speed_tokens_per_s: Array, measured_input: Array, input_tokens: Array,
                output_tokens: Array, latency: LatencyModel) -> tuple[Array, Array, Array, Array]:
    """(median TTFT, median full call, p95 TTFT, p95 full call) in ms for a prompt of `input_tokens`: TTFT grows
    with the prompt from the length it was measured at (never below half the measured figure)."""
    ttft = np.maximum(speed_ttft_ms + latency.ttft_ms_per_1k_input * (input_tokens - measured_input) / 1000,
                      speed_ttft_ms / 2)
    generation = 1000 * output_tokens / speed_tokens_per_s
    return (np.asarray(ttft), np.asarray(ttft + generation), np.asarray(ttft * latency.ttft_p95_over_median),
            p95_ms(ttft, generation, latency))


# ----------------------------------------------------------------------------------------------------------------
# Devices
# ----------------------------------------------------------------------------------------------------------------


def device_speed(params: Array, bytes_per_param: Array, bandwidth_gbs: Array,
                 prefill_param_tokens_per_s: Array) -> tuple[Array, Array]:
    """(decode tokens/s, prefill ms per prompt token) of a model on a device class."""
    decode = bandwidth_gbs * 1e9 / (params * bytes_per_param)
    return np.asarray(decode), np.asarray(1000 * params / prefill_param_tokens_per_s)
