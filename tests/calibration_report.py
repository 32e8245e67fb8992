"""The cost model's estimates next to the published figures in tests/calibration/*.toml, as ratios (estimate ÷
published). `python tests/calibration_report.py` prints the README's calibration table from them; the tests in
test_calibration.py hold the errors to their bounds and test_docs checks the README's table is current.

Method: each estimate is made through advisor's public API with the published run's own inputs (model size, tokens,
GPU, precision, tensor-parallel width, concurrency, prompt and output lengths); nothing is fitted per point. A point is
left out only for a reason its data states (`excluded`, a mixture-of-experts model the dense formulas do not describe,
a GPU or precision the catalog does not have)."""

from __future__ import annotations

import math
import re
import statistics
import sys
import tomllib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from advisor import Advisor
from advisor.errors import AdvisorError
from advisor.serving import BYTES_PER_PARAM, device_speed, figures
from advisor.settings import gpu_record

HERE = Path(__file__).parent / "calibration"
API_OUTPUT_TOKENS = 300  # the call length API latencies are compared at (Artificial Analysis' 100-in/300-out)
FIRST_PARTY = {"openai", "anthropic", "google", "deepseek"}


@cache
def advisor() -> Advisor:
    return Advisor()


@cache
def data(name: str) -> dict[str, Any]:
    return tomllib.loads((HERE / f"{name}.toml").read_text(encoding="utf-8"))


@dataclass
class Errors:
    """Estimate ÷ published for each compared figure, with its label."""

    what: str
    rows: list[tuple[str, float]] = field(default_factory=list)

    def add(self, label: str, estimate: float, published: float) -> None:
        self.rows.append((label, estimate / published))

    @property
    def ratios(self) -> list[float]:
        return [r for _, r in self.rows]

    @property
    def n(self) -> int:
        return len(self.rows)

    def _factors(self) -> list[float]:
        return [math.exp(abs(math.log(r))) for r in self.ratios]

    @property
    def median(self) -> float:
        """The median error as a factor (×1.2 = 20 % off either way)."""
        return statistics.median(self._factors())

    @property
    def worst(self) -> float:
        return max(self._factors())

    def by_model(self) -> dict[str, float]:
        """Each label's (model's) median error factor."""
        groups: dict[str, list[float]] = defaultdict(list)
        for label, r in self.rows:
            groups[label].append(math.exp(abs(math.log(r))))
        return {label: statistics.median(v) for label, v in groups.items()}

    def describe(self) -> str:
        worst = sorted(self.rows, key=lambda row: -abs(math.log(row[1])))[:5]
        return (f"{self.what}: n={self.n}, median ×{self.median:.2f}, worst ×{self.worst:.2f}; furthest: "
                + ", ".join(f"{label} {r:.2f}" for label, r in worst))


# -- training ------------------------------------------------------------------------------------------------------


def _gpu(gpu: str) -> str | None:
    """A published GPU as the catalog names it: the H800 is an H100 with a slower interconnect (same compute)."""
    gpu = {"h800": "h100"}.get(gpu, gpu)
    return gpu if gpu in advisor().catalog.gpus else None


def pretrain_errors() -> Errors:
    errors = Errors("pretraining GPU-hours")
    for run in data("training")["pretrain"]:
        gpu = _gpu(run.get("gpu", ""))
        if run.get("excluded") or run.get("kind") == "moe" or not gpu or not run.get("gpu_hours"):
            continue
        estimate = advisor().estimate_training(run["params"], run["tokens"], gpu)
        errors.add(run["model"], estimate.gpu_hours, run["gpu_hours"])
    return errors


def _fine_tune_tokens(run: dict[str, Any]) -> float | None:
    """Tokens a fine-tuning run processed: stated, or its dataset's tokens × epochs (LitGPT's Alpaca2k rows by the
    dataset's published median of 168 tokens per example)."""
    if "tokens" in run:
        return float(run["tokens"])
    if "dataset_tokens" in run and "epochs" in run:
        return float(run["dataset_tokens"] * run["epochs"])
    if "LitGPT" in run["model"] and "examples" in run and "epochs" in run:
        return float(run["examples"] * 168 * run["epochs"])
    return None


def fine_tune_errors() -> Errors:
    errors = Errors("fine-tuning GPU-hours")
    for run in data("training")["finetune"]:
        gpu, tokens = _gpu(run.get("gpu", "")), _fine_tune_tokens(run)
        if not gpu or tokens is None or run.get("excluded"):
            continue
        estimate = advisor().estimate_training(run["params"], tokens, gpu, fine_tune=True)
        errors.add(run["model"], estimate.gpu_hours, run["gpu_hours"])
    return errors


# -- serving -------------------------------------------------------------------------------------------------------


def _serving_points() -> Iterable[dict[str, Any]]:
    kv = data("serving_architectures")["kv_bytes_per_token"]
    for point in data("serving")["point"]:
        if (point["gpu"] in advisor().catalog.gpus and point["precision"] in BYTES_PER_PARAM
                and "input_tokens" in point and "output_tokens" in point and "Mixtral" not in point["model"]):
            yield point | {"kv_bytes": kv.get(point["model"])}


def _serve(point: dict[str, Any]) -> tuple[float, float, float] | None:
    """(output tokens/s, TTFT ms, ms per output token) of a published configuration, or None if it does not fit."""
    catalog = advisor().catalog
    gpu = gpu_record(np.array(point["gpu"], dtype=object), np.asarray(1.0), np.asarray(1.0), catalog)
    precision = point["precision"]
    kv, kv_precision = point["kv_bytes"], point.get("kv_precision", precision)
    kv_bytes = None if kv is None else np.asarray(kv["bytes"] * (0.5 if kv_precision == "fp8" else 1.0))
    concurrency = point["concurrency"]
    batch = catalog.serving.saturated_batch if concurrency == "saturated" else int(concurrency)
    # vLLM's gpu_memory_utilization is a share of the whole GPU (advisor's default); TensorRT-LLM gives the KV cache
    # 90 % of the memory the weights leave free (kv_cache_free_gpu_mem_fraction = 0.9, its documented default).
    memory = catalog.gpus[point["gpu"]].memory_gb * point["gpus"] * 1e9
    weights = point["params"] * BYTES_PER_PARAM[precision]
    utilization = ((weights + 0.9 * (memory - weights)) / memory if point["engine"].startswith("TensorRT-LLM")
                   else catalog.defaults["gpu_memory_utilization"].value)
    speed = figures(np.asarray(float(point["params"])), precision, gpu, point["gpus"], np.asarray(float(batch)),
                    prompt_tokens=np.asarray(float(point["input_tokens"])), cached_tokens=np.asarray(0.0),
                    output_tokens=np.asarray(float(max(1, point["output_tokens"]))), catalog=catalog,
                    memory_utilization=np.asarray(utilization), efficiency=np.asarray(1.0), kv_bytes=kv_bytes)
    if np.isnan(speed.output_tokens_per_s):
        return None
    return float(speed.output_tokens_per_s), 1000 * float(speed.ttft_s), 1000 * float(speed.tpot_s)


def serving_errors(kind: str) -> Errors:
    """`throughput`: output tokens/s; `latency`: time per output token and time to first token where the source
    measured them at a stated concurrency (TTFT of static-batch runs, which include a whole batch's queue, and of
    runs queued past 10 s are left out)."""
    errors = Errors(f"serving {kind}")
    for point in _serving_points():
        found = _serve(point)
        label = f"{point['model']} {point['gpu']}×{point['gpus']} {point['precision']} c={point['concurrency']}"
        if found is None:
            errors.add(label + " (does not fit)", 1e-3, 1.0)
            continue
        tps, ttft, tpot = found
        if kind == "throughput" and point.get("output_tokens_per_s"):
            errors.add(label, tps, point["output_tokens_per_s"])
        if kind == "latency" and point["concurrency"] != "saturated":
            if point.get("itl_ms"):
                errors.add(label + " ITL", tpot, point["itl_ms"])
            static = point["engine"].startswith("TensorRT-LLM 0.9") or "GPT-J" in point["model"]
            if point.get("ttft_ms") and point["ttft_ms"] < 10_000 and not static:
                errors.add(label + " TTFT", ttft, point["ttft_ms"])
    return errors


# -- hosted APIs ---------------------------------------------------------------------------------------------------


def _api_id(measurement: dict[str, Any]) -> str:
    """The id advisor would be given for the measured route: the model's own for its first-party provider or a
    router that passes calls to it (OpenRouter), else `provider:model`."""
    provider, model = measurement["provider"], measurement["model"]
    owner, _, name = measurement.get("canonical", "").partition("/")
    if (provider in FIRST_PARTY or provider == "openrouter") and owner in FIRST_PARTY:
        return name
    return f"{provider}:{model}"


def api_latency_errors() -> Errors:
    """Every published median but the one each latency-table entry was copied from (no figure is compared with
    itself): a call of the measured prompt length (1,000 tokens where the source does not say) and
    `API_OUTPUT_TOKENS` output tokens, median to median; time to first token alone where only that was published."""
    errors = Errors("hosted-API median latency")
    table = advisor().catalog.api_latency
    for m in data("api_latency")["measurement"]:
        if m.get("statistic") not in ("median", "p50") or "ttft_ms" not in m:
            continue
        model = _api_id(m)
        own = table.get(model)
        if own is not None and own.ttft_ms == m["ttft_ms"] and own.output_tokens_per_s == m.get("output_tokens_per_s"):
            continue
        try:
            estimate = advisor().estimate_latency(model, int(m.get("input_tokens", 1000)), API_OUTPUT_TOKENS)
        except AdvisorError:  # a model genai-prices does not know: advisor makes no estimate to test
            continue
        if "output_tokens_per_s" in m:
            published = m["ttft_ms"] + 1000 * API_OUTPUT_TOKENS / m["output_tokens_per_s"]
            errors.add(model, estimate.p50_ms, published)
        else:
            errors.add(model, estimate.ttft_ms, m["ttft_ms"])
    return errors


# -- devices -------------------------------------------------------------------------------------------------------


def _bits(point: dict[str, Any]) -> float | None:
    """Bits per weight as published: stated, from the file size, or read from the precision's name."""
    for key in ("bits_per_weight", "file_bits_per_weight"):
        if key in point:
            return float(point[key])
    found = re.search(r"(?:int|q|fp|bf|w)(\d+)|(\d+)[- ]?bit", point.get("precision", "").lower())
    return float(found[1] or found[2]) if found else None


def on_device_errors() -> Errors:
    """Decode tokens/s of a published device and model against the device class's bandwidth over the model's
    weight bytes (points of a class the catalog has, with a model size and a precision)."""
    errors = Errors("on-device decode")
    catalog = advisor().catalog
    for p in data("on_device")["point"]:
        device, bits = catalog.devices.get(p.get("device_class", "")), _bits(p)
        if device is None or "params" not in p or bits is None or p.get("decode_is_lower_bound"):
            continue
        decode, _ = device_speed(np.asarray(float(p["params"])), np.asarray(bits / 8), np.asarray(device.bandwidth_gbs),
                                 np.asarray(device.prefill_param_tokens_per_s))
        errors.add(f"{p['model']} on {p['device']}", float(decode), p["decode_tokens_per_s"])
    return errors


# -- the README's table --------------------------------------------------------------------------------------------


def table() -> str:
    rows = [("Training GPU-hours, pretraining", pretrain_errors()), ("Training GPU-hours, fine-tuning",
                                                                     fine_tune_errors()),
            ("Serving throughput (tokens/s)", serving_errors("throughput")),
            ("Serving latency (TTFT, per-token)", serving_errors("latency")),
            ("Hosted-API median latency", api_latency_errors()), ("On-device decode (tokens/s)", on_device_errors())]
    lines = ["| Estimate | Published figures | Median error | Worst error |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {e.n} | ×{e.median:.2f} | ×{e.worst:.2f} |" for name, e in rows]
    return "\n".join(lines)


START = "<!-- calibration table: generated by tests/calibration_report.py -->\n"
END = "<!-- end of calibration table -->"
README = Path(__file__).parent.parent / "README.md"


def readme_with_table(text: str) -> str:
    """The README's text with the calibration table between its markers made current."""
    before, rest = text.split(START)
    _, after = rest.split(END)
    return before + START + table() + "\n" + END + after


if __name__ == "__main__":  # python tests/calibration_report.py [--write]: print the table, or write it into the README
    if sys.argv[1:] == ["--write"]:
        README.write_text(readme_with_table(README.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(table())
