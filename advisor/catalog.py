"""The catalog: GPUs, hosted fine-tuning prices and every scalar default, each with its source and date.

The shipped catalog is `advisor/data/catalog.toml`; `--catalog FILE` layers a user's TOML over it (only the entries
that change), and a profile's `assumptions` override single defaults. The default keys are exactly the fields of
`schema.Assumptions`, so a misspelt key fails by name wherever it appears.
"""

import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from .errors import CatalogError, UnknownIdError, did_you_mean
from .io import describe_validation_error, read_toml, shown
from .schema import Assumptions, numeric_fields

CATALOG_PATH = Path(__file__).parent / "data" / "catalog.toml"

# Defaults the catalog does not hold as one number because they are derived: the GPU's own hourly price, a
# from-scratch model sized to its corpus, training MFU by GPU and model size, the serving precision and on-device model
# the latency search picks, the hosted model's own latency and the device class's figures.
DERIVED_DEFAULTS = frozenset({"gpu_hourly_usd", "pretrain_params", "mfu", "precision", "api_ttft_ms",
                              "api_output_tokens_per_s", "on_device_model_params", "on_device_tokens_per_s",
                              "on_device_prefill_ms_per_token", "on_device_max_weight_gb"})


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)
    source: str = Field(min_length=1)
    date: str = Field(pattern=r"^\d{4}-\d{2}(-\d{2})?$")


class GPU(_Entry):
    name: str
    # Bounded like profile numbers: wide enough for any real accelerator, narrow enough that no cost overflows.
    bf16_tflops: float = Field(ge=1, le=1e6, description="peak dense BF16 TFLOP/s")
    fp8_tflops: float | None = Field(default=None, ge=1, le=1e6, description="peak dense FP8 TFLOP/s, if it has FP8")
    bandwidth_tbs: float = Field(ge=0.01, le=1e3, description="memory bandwidth, TB/s")
    memory_gb: float = Field(ge=1, le=1e5)
    hourly_usd: float = Field(ge=0.01, le=1e4, description="on-demand USD per GPU-hour")
    nvlink: bool = Field(default=True, description="GPUs of a node talk over NVLink/Infinity Fabric, not PCIe")
    software_efficiency: float = Field(default=1.0, gt=0, le=1, description="serving stack maturity, fitted")
    training_mfu_10b: float = Field(gt=0, le=1, description="training MFU of a 10B model on this generation, fitted")
    training_source: str = Field(min_length=1)


class Serving(_Entry):
    """The self-hosted serving model's efficiencies, fitted to published measurements (see `serving`)."""

    bandwidth_efficiency: float = Field(gt=0, le=1)
    compute_efficiency: float = Field(gt=0, le=1)
    prefill_efficiency: float = Field(gt=0, le=1)
    step_overhead_ms: float = Field(ge=0, le=1e3)
    nvlink_tp_loss: float = Field(ge=0, lt=0.34)  # per doubling of tensor-parallel width (8 GPUs: 3 doublings)
    pcie_tp_loss: float = Field(ge=0, lt=0.34)
    queue_factor: float = Field(ge=0, le=10)
    saturated_batch: int = Field(ge=1, le=65536)


class Training(_Entry):
    """Training MFU by model size: the GPU's `training_mfu_10b` × (N / 10B) ^ exponent, at most `max_mfu`."""

    size_exponent: float = Field(ge=0, le=1)
    max_mfu: float = Field(gt=0, le=1)
    fine_tune_factor: float = Field(gt=0, le=1, description="fine-tuning MFU as a share of pretraining MFU")


class Device(_Entry):
    """A device class for on-device inference: decode reads the weights at its effective bandwidth, prefill runs
    at its effective parameter·token rate."""

    name: str
    bandwidth_gbs: float = Field(ge=0.1, le=1e5, description="effective memory bandwidth for decode")
    prefill_param_tokens_per_s: float = Field(ge=1e6, le=1e18)
    max_weight_gb: float = Field(gt=0, le=1e4)


class ApiLatency(_Entry):
    """A hosted model's published median speed."""

    ttft_ms: float = Field(gt=0, le=1e7)
    output_tokens_per_s: float = Field(gt=0, le=1e7)
    input_tokens: int = Field(ge=1, le=10**8, description="prompt length the median was measured at")


class LatencyModel(_Entry):
    """How hosted-API latency grows with the prompt, and p95 as a multiple of the median."""

    ttft_ms_per_1k_input: float = Field(ge=0, le=1e5)
    ttft_p95_over_median: float = Field(ge=1, le=100)
    generation_p95_over_median: float = Field(ge=1, le=100)


class FineTuneAPI(_Entry):
    training_usd_per_mtok: float = Field(ge=0, le=1e5)
    input_usd_per_mtok: float = Field(ge=0, le=1e5)
    cached_input_usd_per_mtok: float = Field(ge=0, le=1e5)
    output_usd_per_mtok: float = Field(ge=0, le=1e5)


class OpenModel(_Entry):
    """A reference open-weight model: what a self-hosted or on-device candidate of its size is named after."""

    name: str = Field(min_length=1)
    params: float = Field(gt=0, le=1e13, allow_inf_nan=False)
    tier: int = Field(ge=0, le=3, description="capability tier: 0 small device model … 3 frontier")


class HostedModel(_Entry):
    """A hosted model's provider, and its capability tier for comparing it with the model an eval was measured on."""

    provider: str = Field(min_length=1)
    tier: int = Field(ge=0, le=3)


class PriceTiers(_Entry):
    """The tier of a hosted model the catalog does not list, read from its input price per million tokens."""

    tier1_below: float = Field(gt=0, le=1e4)
    tier2_below: float = Field(gt=0, le=1e4)


class Unknown(_Entry):
    """The plausible ends of a field a profile may leave unknown (DESIGN §4): a decision that changes at either end
    names the field in its warnings."""

    label: str = Field(min_length=1)
    low: Annotated[float, Field(ge=-1e15, le=1e15, allow_inf_nan=False)] | str
    high: Annotated[float, Field(ge=-1e15, le=1e15, allow_inf_nan=False)] | str


class Default(_Entry):
    model_config = ConfigDict(strict=False)
    value: Any


class Spread(_Entry):
    """The default range of an uncertain input, around the profile's (or default's) value: `factor` multiplies
    it (drawn log-uniformly), `shift` adds to it and `absolute` replaces it (drawn uniformly)."""

    model_config = ConfigDict(strict=False)
    label: str = Field(min_length=1)
    low: float = Field(ge=-1e12, le=1e12, allow_inf_nan=False)
    high: float = Field(ge=-1e12, le=1e12, allow_inf_nan=False)
    scale: Literal["factor", "shift", "absolute"]

    @model_validator(mode="after")
    def _ordered(self) -> "Spread":
        if self.low > self.high or (self.scale == "factor" and self.low <= 0):
            raise ValueError(f"needs low ≤ high{' and low > 0 for a factor' if self.scale == 'factor' else ''}")
        return self


# An id names an entry in profiles, JSON and memo code spans: a plain token, never text that could break them.
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/+-]{0,63}$")]
MAX_ENTRIES = 1_000  # per table (GPUs, devices, models): the shipped catalog has at most 22


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    price_timestamp: datetime
    gpus: dict[Id, GPU] = Field(min_length=1, max_length=MAX_ENTRIES)
    fine_tune_api: dict[Id, FineTuneAPI] = Field(max_length=MAX_ENTRIES)
    serving: Serving
    training: Training
    devices: dict[Id, Device] = Field(min_length=1, max_length=MAX_ENTRIES)
    api_latency: dict[Id, ApiLatency] = Field(min_length=1, max_length=MAX_ENTRIES)
    latency_model: LatencyModel
    open_models: dict[Id, OpenModel] = Field(min_length=1, max_length=MAX_ENTRIES)
    hosted_models: dict[Id, HostedModel] = Field(max_length=MAX_ENTRIES)
    hosted_tier_prices: PriceTiers
    defaults: dict[str, Default]
    uncertainty: dict[str, Spread] = {}
    unknowns: dict[str, Unknown] = {}

    @field_validator("uncertainty")
    @classmethod
    def _spreads_of_inputs(cls, spreads: dict[str, Spread]) -> dict[str, Spread]:
        known = numeric_fields()
        for key in spreads:
            if key not in known:
                raise ValueError(f"uncertainty: {key!r} is not a numeric profile input{did_you_mean(key, known)}")
        return spreads

    @field_validator("unknowns")
    @classmethod
    def _unknowns_are_optional_fields(cls, unknowns: dict[str, Unknown]) -> dict[str, Unknown]:
        from .schema import profile_fields

        fields = profile_fields()
        for key, entry in unknowns.items():
            kind = fields.get(key)
            if kind is None:
                raise ValueError(f"unknowns: {key!r} is not a profile field{did_you_mean(key, fields)}")
            for end in (entry.low, entry.high):
                if kind.name == "str" and end not in kind.values:
                    raise ValueError(f"unknowns: {key}: {end!r} is not one of {', '.join(kind.values)}")
                if kind.name == "number" and not isinstance(end, (int, float)):
                    raise ValueError(f"unknowns: {key}: {end!r} is not a number")
        return unknowns

    @field_validator("defaults")
    @classmethod
    def _defaults_are_assumptions(cls, defaults: dict[str, Default]) -> dict[str, Default]:
        known = Assumptions.model_fields
        for key in defaults:
            if key not in known:
                raise ValueError(f"unknown default {key!r}{did_you_mean(key, known)}")
        missing = sorted(set(known) - set(defaults) - DERIVED_DEFAULTS)
        if missing:
            raise ValueError(f"missing defaults: {', '.join(missing)}")
        # Each value must be valid where a profile could put it.
        Assumptions.model_validate({k: d.value for k, d in defaults.items()})
        return defaults

    @model_validator(mode="after")
    def _ids_exist(self) -> "Catalog":
        gpu = self.defaults["gpu"].value
        if gpu not in self.gpus:
            raise ValueError(f"defaults.gpu {gpu!r} is not among the GPUs{did_you_mean(gpu, self.gpus)}")
        device = self.defaults["device_class"].value
        if device not in self.devices:
            raise ValueError(f"defaults.device_class {device!r} is not among the devices"
                             f"{did_you_mean(device, self.devices)}")
        untiered = sorted(set(self.api_latency) - set(self.hosted_models))
        if untiered:
            raise ValueError(f"api_latency: {', '.join(untiered)} need a hosted_models entry (provider and tier)")
        for key in ("fine_tune_api_model", "fine_tune_api_model_high_accuracy"):
            ft = self.defaults[key].value
            if ft not in self.fine_tune_api:
                raise ValueError(f"defaults.{key} {ft!r} has no fine_tune_api entry")
        return self

    def open_model(self, params: float) -> tuple[str, OpenModel]:
        """The reference open model nearest in size (by ratio) to `params`."""
        import math

        return min(self.open_models.items(), key=lambda kv: abs(math.log(kv[1].params / params)))

    def tier(self, model: str) -> int | None:
        """A model id's capability tier: a listed hosted or open model's; else an open model's by the size in its
        name ('llama-3-8b', 'qwen2.5-32b-instruct'); else None (see `Prices`-based tiers in the cost model)."""
        if model in self.hosted_models:
            return self.hosted_models[model].tier
        if model in self.open_models:
            return self.open_models[model].tier
        size = re.search(r"(\d+(?:\.\d+)?)b(?![a-z])", model.lower())
        if size:
            return self.open_model(float(size[1]) * 1e9)[1].tier
        return None

    def tier_by_price(self, input_usd_per_mtok: float) -> int:
        t = self.hosted_tier_prices
        return 1 if input_usd_per_mtok < t.tier1_below else 2 if input_usd_per_mtok < t.tier2_below else 3

    def gpu(self, gpu_id: str) -> GPU:
        try:
            return self.gpus[gpu_id]
        except KeyError:
            raise UnknownIdError(
                f"unknown GPU {gpu_id!r}{did_you_mean(gpu_id, self.gpus)}; known: {', '.join(self.gpus)}"
            ) from None

    def device(self, device_class: str) -> Device:
        try:
            return self.devices[device_class]
        except KeyError:
            raise UnknownIdError(f"unknown device class {device_class!r}{did_you_mean(device_class, self.devices)}; "
                                 f"known: {', '.join(self.devices)}") from None

    def fine_tune_prices(self, model: str) -> FineTuneAPI:
        try:
            return self.fine_tune_api[model]
        except KeyError:
            raise UnknownIdError(
                f"no hosted fine-tuning prices for {model!r}{did_you_mean(model, self.fine_tune_api)}; "
                f"known: {', '.join(self.fine_tune_api)} (add one with --catalog)"
            ) from None


def _read_toml(path: Path) -> dict[str, Any]:
    return read_toml(path, "catalog", CatalogError)[0]


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_catalog(path: str | Path | None = None) -> Catalog:
    """The shipped catalog, with the TOML file at `path` (if any) layered over it."""
    data = _read_toml(CATALOG_PATH)
    if path is not None:
        data = _merge(data, _read_toml(Path(path)))
    try:
        return Catalog.model_validate(data)
    except ValidationError as e:
        raise CatalogError(f"{shown(path or CATALOG_PATH)}: {describe_validation_error(e)}") from None


class Used(BaseModel):
    """One number the decision relied on, with where it came from."""

    model_config = ConfigDict(frozen=True)
    name: str
    value: Any
    source: str
    date: str


def provenance(name: str, overridden: bool, catalog: Catalog, value: Any) -> Used:
    """Where the value of default `name` came from: the profile's override, or the catalog's source."""
    if overridden:
        return Used(name=name, value=value, source="profile assumptions (user override)", date="profile")
    entry = catalog.defaults[name]
    return Used(name=name, value=value, source=entry.source, date=entry.date)
