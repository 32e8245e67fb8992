"""The effective assumptions of a run: the catalog's sourced defaults, overridden by each profile's `assumptions`.

A profile states overrides by flat names (`fte_rag`, `refresh_per_month_daily`, …) that the catalog shares; the cost
model reads them here as one typed record with nothing left unset — derived defaults (the chosen GPU's own hourly
price, a from-scratch model sized to its corpus) resolved — and the per-path families as nested records. Every
value is a column of the run's frame (see `frame`), so a batch of profiles or thousands of scenarios resolve at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from .catalog import GPU, Catalog, Device
from .frame import Array, Frame

Part = Literal["prompt", "rag", "fine_tune", "continued_pretrain", "pretrain", "self_host", "on_device"]
PARTS: tuple[Part, ...] = get_args(Part)
REFRESH = ("static", "monthly", "weekly", "daily")  # data.freshness `realtime` refreshes at the daily rate

# Text-valued assumptions (model and GPU ids, precisions); every other assumption is a number.
TEXT = frozenset({"api_model", "api_model_high_accuracy", "fine_tune_api_model", "fine_tune_api_model_high_accuracy",
                  "gpu", "precision", "on_device_precision", "device_class"})
# Derived defaults a profile may still state; where it does not, the value is NaN (None for text) and the cost model
# derives it per candidate: training MFU by GPU and model size, the precision and on-device model the latency search
# picks, the hosted model's latency from the latency table, the device's speed from its class.
PER_CANDIDATE = ("mfu", "precision", "api_ttft_ms", "api_output_tokens_per_s", "on_device_model_params",
                 "on_device_tokens_per_s", "on_device_prefill_ms_per_token")


@dataclass(frozen=True)
class Effort:
    """Engineering a part of a path takes: ongoing engineers and the engineer-months to build it."""

    fte: Array
    setup_months: Array


@dataclass(frozen=True)
class Gpu:
    id: Array  # catalog GPU ids (text)
    bf16_tflops: Array
    fp8_tflops: Array  # NaN where the GPU has no FP8 tensor cores
    bandwidth_tbs: Array
    memory_gb: Array
    hourly_usd: Array  # the effective price: the profile's, else the GPU's on-demand price
    price_change_per_year: Array
    tp_loss: Array  # serving efficiency lost per doubling of tensor-parallel width (NVLink or PCIe)
    software_efficiency: Array
    training_mfu_10b: Array


@dataclass(frozen=True)
class Api:
    model: Array  # genai-prices ids (text), normal accuracy
    model_high_accuracy: Array
    price_factor: Array
    fine_tune_model: Array
    fine_tune_model_high_accuracy: Array
    price_change_per_year: Array
    ttft_ms: Array  # NaN: the model's own figures from the latency table
    output_tokens_per_s: Array  # NaN: likewise


@dataclass(frozen=True)
class OpenModels:
    params: Array  # prompting a self-hosted open model, normal accuracy
    params_high_accuracy: Array
    fine_tuned_params: Array  # narrow tasks and normal accuracy
    fine_tuned_params_high_accuracy: Array  # open-ended tasks at high accuracy
    pretrain_params: Array  # the profile's, else Chinchilla-sized to the corpus within 1B-70B


@dataclass(frozen=True)
class Serving:
    precision: Array  # text; None: the latency search picks bf16 or fp8
    efficiency: Array
    concurrency: Array
    memory_utilization: Array
    min_replicas: Array
    hours_per_month: Array


@dataclass(frozen=True)
class OnDevice:
    device_class: Array  # text: phone, laptop, edge-gpu
    model_params: Array  # NaN: the largest reference model that fits and meets the latency target
    precision: Array  # text
    max_weight_gb: Array  # the profile's, else the device class's
    bandwidth_gbs: Array
    prefill_param_tokens_per_s: Array
    tokens_per_s: Array  # NaN: bandwidth-bound decode of the model's weights
    prefill_ms_per_token: Array  # NaN: the class's prefill rate for the model's size


@dataclass(frozen=True)
class Retrieval:
    context_tokens: Array
    chunk_tokens: Array
    latency_ms: Array
    cached_prompt_max_tokens: Array
    embedding_usd_per_mtok: Array
    embedding_dimensions: Array
    store_base_monthly_usd: Array
    store_usd_per_gb_month: Array
    store_usd_per_million_queries: Array
    changed_share: Array  # share of the knowledge base a refresh re-embeds


@dataclass(frozen=True)
class Training:
    mfu: Array  # NaN: the GPU generation's, by model size (catalog [training])
    fine_tune_epochs: Array


@dataclass(frozen=True)
class Unknown:
    """What the cost model prices when the profile leaves a size unknown (rules still see it as unknown)."""

    knowledge_base_tokens: Array
    labeled_examples: Array
    refresh_per_month: Array


@dataclass(frozen=True)
class Settings:
    api: Api
    gpu: Gpu
    open: OpenModels
    serving: Serving
    on_device: OnDevice
    retrieval: Retrieval
    training: Training
    engineer_monthly_usd: Array
    unknown: Unknown
    refresh_per_month: Mapping[str, Array]  # by data.freshness: static, monthly, weekly, daily
    effort: Mapping[Part, Effort]


def effective(frame: Frame, catalog: Catalog) -> dict[str, Array]:
    """Every assumption by its flat name: the profile's override where it gives one, else the catalog's default
    (`gpu_hourly_usd`: the chosen GPU's price; `pretrain_params`: sized to the corpus; `on_device_max_weight_gb`: the
    device class's), and NaN/None for the values derived per candidate (`PER_CANDIDATE`). Unknown ids are errors."""
    out: dict[str, Array] = {}
    for name, default in catalog.defaults.items():
        stated = frame[f"assumptions.{name}"]
        if name in TEXT:
            out[name] = _text(stated, default.value)
        else:
            out[name] = np.where(np.isnan(stated), float(default.value), stated)
    for name in PER_CANDIDATE:
        out[name] = frame[f"assumptions.{name}"]
    hourly = _lookup(out["gpu"], {g: catalog.gpu(g).hourly_usd for g in np.unique(out["gpu"]).tolist()})
    stated_hourly = frame["assumptions.gpu_hourly_usd"]
    out["gpu_hourly_usd"] = np.where(np.isnan(stated_hourly), hourly, stated_hourly)
    stated_size = frame["assumptions.pretrain_params"]
    corpus_sized = np.minimum(np.maximum(frame["data.unlabeled_tokens"] / 20, 1e9), 70e9)
    out["pretrain_params"] = np.where(np.isnan(stated_size), corpus_sized, stated_size)
    holds = _lookup(out["device_class"], {d: catalog.device(d).max_weight_gb
                                          for d in np.unique(out["device_class"]).tolist()})
    stated_holds = frame["assumptions.on_device_max_weight_gb"]
    out["on_device_max_weight_gb"] = np.where(np.isnan(stated_holds), holds, stated_holds)
    return out


def _text(stated: Array, default: str) -> Array:
    if stated.ndim == 0:
        return np.array(default if stated.item() is None else stated.item(), dtype=object)
    return np.array([default if v is None else v for v in stated.tolist()], dtype=object)


def _lookup(ids: Array, table: Mapping[str, float]) -> Array:
    """Each id's number from `table`, per scenario."""
    if ids.ndim == 0:
        return np.asarray(table[ids.item()], dtype=float)
    return np.array([table[i] for i in ids.tolist()], dtype=float)


def gpu_record(ids: Array, hourly_usd: Array, price_change_per_year: Array, catalog: Catalog) -> Gpu:
    """The GPU figures of each scenario's GPU id, at the given effective price."""
    specs = {g: catalog.gpu(g) for g in np.unique(ids).tolist()}
    cal = catalog.serving

    def of(figure: Callable[[GPU], float | None]) -> Array:
        return _lookup(ids, {g: (np.nan if (x := figure(spec)) is None else x) for g, spec in specs.items()})

    return Gpu(id=ids, bf16_tflops=of(lambda g: g.bf16_tflops), fp8_tflops=of(lambda g: g.fp8_tflops),
               bandwidth_tbs=of(lambda g: g.bandwidth_tbs), memory_gb=of(lambda g: g.memory_gb), hourly_usd=hourly_usd,
               price_change_per_year=price_change_per_year,
               tp_loss=of(lambda g: cal.nvlink_tp_loss if g.nvlink else cal.pcie_tp_loss),
               software_efficiency=of(lambda g: g.software_efficiency),
               training_mfu_10b=of(lambda g: g.training_mfu_10b))


def settings(values: Mapping[str, Array], catalog: Catalog) -> Settings:
    """The typed record of `effective`'s values (the one place that maps the flat names onto it)."""
    v = values
    gpus, devices = v["gpu"], v["device_class"]
    kinds = {d: catalog.device(d) for d in np.unique(devices).tolist()}

    def device(of: Callable[[Device], float]) -> Array:
        return _lookup(devices, {d: of(spec) for d, spec in kinds.items()})

    return Settings(
        api=Api(model=v["api_model"], model_high_accuracy=v["api_model_high_accuracy"],
                price_factor=v["api_price_factor"], fine_tune_model=v["fine_tune_api_model"],
                fine_tune_model_high_accuracy=v["fine_tune_api_model_high_accuracy"],
                price_change_per_year=v["api_price_change_per_year"],
                ttft_ms=v["api_ttft_ms"], output_tokens_per_s=v["api_output_tokens_per_s"]),
        gpu=gpu_record(gpus, v["gpu_hourly_usd"], v["gpu_price_change_per_year"], catalog),
        open=OpenModels(params=v["open_model_params"], params_high_accuracy=v["open_model_params_high_accuracy"],
                        fine_tuned_params=v["fine_tuned_model_params"],
                        fine_tuned_params_high_accuracy=v["fine_tuned_model_params_high_accuracy"],
                        pretrain_params=v["pretrain_params"]),
        serving=Serving(precision=v["precision"], efficiency=v["serving_efficiency"],
                        concurrency=v["serving_concurrency"], memory_utilization=v["gpu_memory_utilization"],
                        min_replicas=v["min_replicas"], hours_per_month=v["hours_per_month"]),
        on_device=OnDevice(device_class=devices, model_params=v["on_device_model_params"],
                           precision=v["on_device_precision"], max_weight_gb=v["on_device_max_weight_gb"],
                           bandwidth_gbs=device(lambda d: d.bandwidth_gbs),
                           prefill_param_tokens_per_s=device(lambda d: d.prefill_param_tokens_per_s),
                           tokens_per_s=v["on_device_tokens_per_s"],
                           prefill_ms_per_token=v["on_device_prefill_ms_per_token"]),
        retrieval=Retrieval(context_tokens=v["rag_context_tokens"], chunk_tokens=v["rag_chunk_tokens"],
                            latency_ms=v["rag_latency_ms"], cached_prompt_max_tokens=v["cached_prompt_max_tokens"],
                            embedding_usd_per_mtok=v["embedding_usd_per_mtok"],
                            embedding_dimensions=v["embedding_dimensions"],
                            store_base_monthly_usd=v["vector_store_base_monthly_usd"],
                            store_usd_per_gb_month=v["vector_store_usd_per_gb_month"],
                            store_usd_per_million_queries=v["vector_store_usd_per_million_queries"],
                            changed_share=v["rag_changed_share"]),
        training=Training(mfu=v["mfu"], fine_tune_epochs=v["fine_tune_epochs"]),
        engineer_monthly_usd=v["engineer_monthly_usd"],
        unknown=Unknown(knowledge_base_tokens=v["unknown_knowledge_base_tokens"],
                        labeled_examples=v["unknown_labeled_examples"],
                        refresh_per_month=v["unknown_refresh_per_month"]),
        refresh_per_month={f: v[f"refresh_per_month_{f}"] for f in REFRESH},
        effort={part: Effort(fte=v[f"fte_{part}"], setup_months=v[f"setup_months_{part}"]) for part in PARTS},
    )
