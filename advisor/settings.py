"""The effective assumptions of a run: the catalog's sourced defaults, overridden by each profile's `assumptions`.

A profile states overrides by flat names (`fte_rag`, `refresh_per_month_daily`, …) that the catalog shares; the cost
model reads them here as one typed record with nothing left unset — derived defaults (the chosen GPU's own hourly
price, a from-scratch model sized to its corpus) resolved — and the per-path families as nested records. Every
value is a column of the run's frame (see `frame`), so a batch of profiles or thousands of scenarios resolve at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from .catalog import Catalog
from .frame import Array, Frame

Part = Literal["prompt", "rag", "fine_tune", "continued_pretrain", "pretrain", "self_host", "on_device"]
PARTS: tuple[Part, ...] = get_args(Part)
REFRESH = ("static", "monthly", "weekly", "daily")  # data.freshness `realtime` refreshes at the daily rate

# Text-valued assumptions (model and GPU ids, precisions); every other assumption is a number.
TEXT = frozenset({"api_model", "api_model_high_accuracy", "fine_tune_api_model", "fine_tune_api_model_high_accuracy",
                  "gpu", "precision", "on_device_precision"})


@dataclass(frozen=True)
class Effort:
    """Engineering a part of a path takes: ongoing engineers and the engineer-months to build it."""

    fte: Array
    setup_months: Array


@dataclass(frozen=True)
class Gpu:
    id: Array  # catalog GPU ids (text)
    bf16_tflops: Array
    bandwidth_tbs: Array
    memory_gb: Array
    hourly_usd: Array  # the effective price: the profile's, else the GPU's on-demand price


@dataclass(frozen=True)
class Api:
    model: Array  # genai-prices ids (text), normal accuracy
    model_high_accuracy: Array
    price_factor: Array
    fine_tune_model: Array
    fine_tune_model_high_accuracy: Array
    ttft_ms: Array
    output_tokens_per_s: Array


@dataclass(frozen=True)
class OpenModels:
    params: Array  # prompting a self-hosted open model, normal accuracy
    params_high_accuracy: Array
    fine_tuned_params: Array  # narrow tasks and normal accuracy
    fine_tuned_params_high_accuracy: Array  # open-ended tasks at high accuracy
    pretrain_params: Array  # the profile's, else Chinchilla-sized to the corpus within 1B-70B


@dataclass(frozen=True)
class Serving:
    precision: Array  # text
    efficiency: Array
    concurrency: Array
    memory_utilization: Array
    min_replicas: Array
    hours_per_month: Array


@dataclass(frozen=True)
class OnDevice:
    model_params: Array
    precision: Array  # text
    max_weight_gb: Array
    tokens_per_s: Array
    prefill_ms_per_token: Array


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


@dataclass(frozen=True)
class Training:
    mfu: Array
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
    (`gpu_hourly_usd`: the chosen GPU's price; `pretrain_params`: sized to the corpus). Unknown GPU ids are errors."""
    out: dict[str, Array] = {}
    for name, default in catalog.defaults.items():
        stated = frame[f"assumptions.{name}"]
        if name in TEXT:
            out[name] = _text(stated, default.value)
        else:
            out[name] = np.where(np.isnan(stated), float(default.value), stated)
    hourly = _lookup(out["gpu"], {g: catalog.gpu(g).hourly_usd for g in np.unique(out["gpu"]).tolist()})
    stated_hourly = frame["assumptions.gpu_hourly_usd"]
    out["gpu_hourly_usd"] = np.where(np.isnan(stated_hourly), hourly, stated_hourly)
    stated_size = frame["assumptions.pretrain_params"]
    corpus_sized = np.minimum(np.maximum(frame["data.unlabeled_tokens"] / 20, 1e9), 70e9)
    out["pretrain_params"] = np.where(np.isnan(stated_size), corpus_sized, stated_size)
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


def settings(values: Mapping[str, Array], catalog: Catalog) -> Settings:
    """The typed record of `effective`'s values (the one place that maps the flat names onto it)."""
    gpus = values["gpu"]
    specs = {g: catalog.gpu(g) for g in np.unique(gpus).tolist()}
    v = values
    return Settings(
        api=Api(model=v["api_model"], model_high_accuracy=v["api_model_high_accuracy"],
                price_factor=v["api_price_factor"], fine_tune_model=v["fine_tune_api_model"],
                fine_tune_model_high_accuracy=v["fine_tune_api_model_high_accuracy"],
                ttft_ms=v["api_ttft_ms"], output_tokens_per_s=v["api_output_tokens_per_s"]),
        gpu=Gpu(id=gpus, bf16_tflops=_lookup(gpus, {g: s.bf16_tflops for g, s in specs.items()}),
                bandwidth_tbs=_lookup(gpus, {g: s.bandwidth_tbs for g, s in specs.items()}),
                memory_gb=_lookup(gpus, {g: s.memory_gb for g, s in specs.items()}), hourly_usd=v["gpu_hourly_usd"]),
        open=OpenModels(params=v["open_model_params"], params_high_accuracy=v["open_model_params_high_accuracy"],
                        fine_tuned_params=v["fine_tuned_model_params"],
                        fine_tuned_params_high_accuracy=v["fine_tuned_model_params_high_accuracy"],
                        pretrain_params=v["pretrain_params"]),
        serving=Serving(precision=v["precision"], efficiency=v["serving_efficiency"],
                        concurrency=v["serving_concurrency"], memory_utilization=v["gpu_memory_utilization"],
                        min_replicas=v["min_replicas"], hours_per_month=v["hours_per_month"]),
        on_device=OnDevice(model_params=v["on_device_model_params"], precision=v["on_device_precision"],
                           max_weight_gb=v["on_device_max_weight_gb"], tokens_per_s=v["on_device_tokens_per_s"],
                           prefill_ms_per_token=v["on_device_prefill_ms_per_token"]),
        retrieval=Retrieval(context_tokens=v["rag_context_tokens"], chunk_tokens=v["rag_chunk_tokens"],
                            latency_ms=v["rag_latency_ms"], cached_prompt_max_tokens=v["cached_prompt_max_tokens"],
                            embedding_usd_per_mtok=v["embedding_usd_per_mtok"],
                            embedding_dimensions=v["embedding_dimensions"],
                            store_base_monthly_usd=v["vector_store_base_monthly_usd"],
                            store_usd_per_gb_month=v["vector_store_usd_per_gb_month"],
                            store_usd_per_million_queries=v["vector_store_usd_per_million_queries"]),
        training=Training(mfu=v["mfu"], fine_tune_epochs=v["fine_tune_epochs"]),
        engineer_monthly_usd=v["engineer_monthly_usd"],
        unknown=Unknown(knowledge_base_tokens=v["unknown_knowledge_base_tokens"],
                        labeled_examples=v["unknown_labeled_examples"],
                        refresh_per_month=v["unknown_refresh_per_month"]),
        refresh_per_month={f: v[f"refresh_per_month_{f}"] for f in REFRESH},
        effort={part: Effort(fte=v[f"fte_{part}"], setup_months=v[f"setup_months_{part}"]) for part in PARTS},
    )
