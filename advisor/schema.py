"""The project profile (DESIGN §4): the single source of truth for validation, `advisor schema` and the interview.

Each field's `description` is the one-line question, and `json_schema_extra["help"]` the plain-words help with an
example; the interview and the JSON Schema both read them from here rather than restating fields.

Every number has limits far beyond any real project (10^12 requests a day, 10^8 tokens a call, $10^13; at least a
million parameters, 1 % MFU or serving efficiency): a value past them is a typo or an attack, and the limits keep
every cost and latency the model derives finite.
"""

import math
import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic.fields import FieldInfo

from .errors import did_you_mean

SCHEMA_VERSION = 1

UseCase = Literal[
    "chat_assistant", "support_assistant", "knowledge_qa", "summarization", "extraction", "classification",
    "generation", "code_assistant", "agent", "search_ranking", "other",
]
Modality = Literal["text", "image", "audio", "video", "multimodal", "sequence"]
Stage = Literal["idea", "prototype", "launched", "scaling"]
Freshness = Literal["static", "monthly", "weekly", "daily", "realtime"]
Need = Literal["knowledge", "behavior", "both"]
Residency = Literal["none", "region", "on_prem", "air_gapped"]
Accuracy = Literal["normal", "high", "regulated"]
Gap = Literal["unknown", "none", "some", "large"]
Approach = Literal["prompt", "rag", "fine_tune"]
LatencyMode = Literal["interactive", "batch"]
Deployment = Literal["cloud", "edge", "on_device"]
MLOps = Literal["none", "basic", "mature"]
LockIn = Literal["ok", "avoid"]
Precision = Literal["bf16", "fp16", "fp8", "int8", "int4"]
DeviceClass = Literal["phone", "laptop", "edge-gpu"]


def _whole_number(value: Any) -> Any:
    """Accept 2e12 or 1000.0 for a count (JSON writers emit floats), but never 2.5 or a bool."""
    if isinstance(value, float) and not isinstance(value, bool) and value.is_integer():
        return int(value)
    return value


Count = Annotated[int, BeforeValidator(_whole_number)]


def field(description: str, help: str, default: Any = ..., *, labels: dict[str, str] | None = None,
          unit: str | None = None, **kwargs: Any) -> Any:
    """A described field: `description` is the question, `help` the plain-words explanation with an example;
    `labels` words each choice in plain language for the interview; `unit` "tokens" lets the interview take an amount
    of text as pages, words or documents."""
    extra: dict[str, Any] = {"help": help}
    if labels:
        extra["labels"] = labels
    if unit:
        extra["unit"] = unit
    return Field(default, description=description, json_schema_extra=extra, **kwargs)


class Section(BaseModel):
    # strict: "yes" is not a boolean and "5" is not a number; unknown fields are errors that name the field.
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class Project(Section):
    """Project"""

    name: str = field("Project name", "A short name used as the memo's title, e.g. 'Support copilot'.",
                      min_length=1, max_length=200)
    description: str | None = field(
        "One-sentence description", "What the AI feature does for its users, in one sentence.", None,
        max_length=2000)
    deciders: list[Annotated[str, Field(min_length=1, max_length=200)]] = field(
        "Who makes this decision", "Names or roles, shown in the memo's front matter, e.g. CTO, Head of Support.",
        [], max_length=20)
    use_case: UseCase = field(
        "Main use case", "The closest match; 'agent' means the model plans and calls tools over several steps.",
        labels={"chat_assistant": "chat assistant", "support_assistant": "customer-support assistant",
                "knowledge_qa": "question-answering assistant over documents", "summarization": "summarizer",
                "extraction": "extraction pipeline", "classification": "classifier",
                "generation": "content generator", "code_assistant": "code assistant",
                "agent": "agent that plans and calls tools", "search_ranking": "search or ranking system",
                "other": "AI feature"})
    modality: Modality = field(
        "Main data modality", "What the model reads: text, images, audio, video, several (multimodal), or "
        "sequences such as telemetry, events or DNA.", "text")
    stage: Stage | None = field("Product stage", "idea: nothing built; prototype: a demo; launched: real users; "
                                "scaling: growing fast with product-market fit. Empty if unknown.", None,
                                labels={"idea": "idea: nothing built yet", "prototype": "prototype: a demo",
                                        "launched": "launched: real users",
                                        "scaling": "scaling: growing fast, product-market fit"})


class Data(Section):
    """Data assets"""

    proprietary: bool = field(
        "Do you have data competitors do not?", "Proprietary data is the usual moat that makes training pay: "
        "e.g. years of labelled support tickets or unique sensor telemetry.")
    labeled_examples: Count | None = field(
        "Labeled input/output examples usable for fine-tuning",
        "Pairs of a real input and the ideal output, e.g. 5,000 answered tickets. 0 if none; empty if unknown.",
        None, ge=0, le=10**12)
    unlabeled_tokens: Count = field(
        "Unlabeled domain text usable for continued pre-training",
        "Raw text in your domain, as pages, words or tokens (750 words ≈ 1,000 tokens). Tens of billions of "
        "tokens make continued pre-training worth considering.", 0, ge=0, le=10**15, unit="tokens")
    knowledge_base_tokens: Count | None = field(
        "How much do the documents answers must draw on add up to?",
        "Manuals, policies, a help centre, contracts: say it in pages ('2,000 pages'), documents ('50k "
        "documents') or tokens (a page ≈ 500 tokens). 0 if answers need no documents; empty if unknown.", None,
        ge=0, le=10**13, unit="tokens")
    freshness: Freshness | None = field(
        "How fast does that knowledge change?", "A static manual vs. prices that change daily: fine-tuned "
        "models go stale when knowledge changes fast; retrieval stays current. Empty if unknown.", None,
        labels={"static": "rarely or never", "monthly": "about monthly", "weekly": "about weekly",
                "daily": "daily", "realtime": "in real time (minutes)"})
    need: Need = field(
        "What does a general model lack?", "knowledge: facts it does not know (private or recent); behavior: "
        "style, format or a task skill; both.",
        labels={"knowledge": "knowledge: facts it does not know (private or recent)",
                "behavior": "behaviour: a style, format or task skill", "both": "both"})
    residency: Residency = field(
        "Where may the data go?", "none: anywhere; region: a hosted provider in the right region under "
        "contract is fine; on_prem: data may not leave your own infrastructure; air_gapped: no network at all.",
        labels={"none": "no restriction: any provider, any region",
                "region": "a hosted provider is fine if it keeps the data in a region (e.g. the EU)",
                "on_prem": "only our own servers", "air_gapped": "air-gapped: machines with no network at all"})


class Eval(Section):
    approach: Approach = field("Approach measured", "prompt, rag or fine_tune.")
    score: float = field("Measured score (0–1)", "Your eval's score for that approach, e.g. 0.82.", ge=0, le=1)
    model: str | None = field(
        "Model it was measured on", "The model id, e.g. 'gpt-4.1' or 'llama-3.1-8b'. Evidence for one model does "
        "not carry to a smaller one; empty: the hosted model of the accuracy tier.", None, min_length=1,
        max_length=200)


class Quality(Section):
    """Quality needs"""

    accuracy: Accuracy = field(
        "How accurate must it be?", "normal: occasional mistakes are tolerable; high: mistakes are costly; "
        "regulated: an auditor or regulator checks the outputs.",
        labels={"normal": "normal: an occasional mistake is tolerable", "high": "high: mistakes are costly",
                "regulated": "regulated: an auditor or regulator checks the outputs"})
    gap: Gap | None = field(
        "How far does a prompted general model fall short?", "Try a top hosted model with a good prompt: none "
        "(good enough), some, large, or unknown (not tried yet; the same as leaving it empty).", None,
        labels={"unknown": "not tried yet", "none": "none: it is good enough", "some": "some",
                "large": "large"})
    language_supported: bool = field(
        "Do general models handle your language and modality well?", "Major European and Asian languages: "
        "yes. A low-resource language, or data unlike web text (telemetry, DNA): no.", True)
    evals: list[Eval] = field(
        "Measured eval results so far", "Scores of approaches you have measured on your own eval set.",
        default_factory=list, max_length=50)
    target_score: float | None = field(
        "Eval score the product needs (0–1)", "The score at which the product is good enough, e.g. 0.9.",
        None, ge=0, le=1)


class Latency(Section):
    """Latency and deployment"""

    p95_ms: Count = field(
        "Slowest acceptable response time, in ms (95th percentile)", "19 of 20 responses must be at least this "
        "fast. A chat product: ~3,000 ms; an autocomplete: ~200; an overnight batch job: 3,600,000.", gt=0,
        le=10**10)
    mode: LatencyMode = field(
        "Interactive or batch?", "interactive: a person waits for the answer; batch: jobs run in the background.",
        "interactive", labels={"interactive": "interactive: a person waits for the answer",
                               "batch": "batch: jobs run in the background"})
    deployment: Deployment = field(
        "Where must inference run?", "cloud, edge (a box on site) or on_device (phone, laptop).", "cloud",
        labels={"cloud": "in the cloud or a data centre", "edge": "on a box on site (edge)",
                "on_device": "on the user's phone or laptop"})
    offline: bool = field("Must it work with no network?", "True for a phone feature used on a plane.", False)
    streaming: bool | None = field(
        "Is the answer streamed to a person as it is written?", "Then the p95 target applies to the first token; "
        "otherwise to the whole response. Empty: interactive chat-like use cases stream, the rest do not.", None)


class Usage(Section):
    """Usage forecast"""

    requests_per_day: float = field(
        "User requests per day today", "A support chatbot handles ~2,000 conversations/day; a moderation "
        "pipeline millions of items.", ge=0, le=1e12)
    input_tokens: Count = field(
        "Input tokens per model call", "Prompt + instructions + user text; 1 page ≈ 500 tokens.", ge=1, le=10**8)
    output_tokens: Count = field(
        "Output tokens per model call", "A short answer ≈ 150 tokens; a label ≈ 5; a summary ≈ 300.", ge=1,
        le=10**8)
    calls_per_request: float = field(
        "Model calls per user request", "1 for a plain chatbot; agents make 10–100 calls per task.", 1, ge=1, le=1e5)
    monthly_growth: float = field(
        "Monthly usage growth", "0.1 means +10 % a month; 0 for flat; negative for shrinking.", 0, ge=-0.5, le=5)
    peak_to_average: float = field(
        "How much busier is the busiest hour than the average?", "Peak-to-average ratio: the busiest hour's traffic "
        "divided by the day's average; ~3 for office-hours products, ~1.5 for round-the-clock ones.", 3, ge=1,
        le=10**3)
    cached_input_tokens: Count | None = field(
        "Of the input tokens, the static part every call repeats",
        "System prompt, tool schemas, a knowledge base held in the prompt: a provider's prompt cache or a "
        "self-hosted prefix cache serves it at a lower price.", None, ge=0, le=10**8)

    @model_validator(mode="after")
    def _cached_within_input(self) -> "Usage":
        if self.cached_input_tokens is not None and self.cached_input_tokens > self.input_tokens:
            raise ValueError(f"cached_input_tokens ({self.cached_input_tokens}) cannot exceed input_tokens "
                             f"({self.input_tokens})")
        return self


class Team(Section):
    """Team"""

    ml_engineers: Count = field(
        "ML engineers on the team", "People who can train, evaluate and serve models.", ge=0, le=10**6)
    mlops: MLOps | None = field(
        "MLOps maturity: how much experience running models in production?", "none: no GPU or model-serving "
        "experience; basic: has deployed a model; mature: runs GPU fleets with on-call. Empty if unknown.", None,
        labels={"none": "none: never run a model in production", "basic": "basic: has deployed a model",
                "mature": "mature: runs GPU fleets with on-call"})


class Budget(Section):
    """Budget"""

    monthly_usd: float = field(
        "Monthly budget for this feature (USD)",
        "Cash each month for API calls, GPUs and services such as a vector store; engineering time too only if "
        "includes_staff is set.", ge=0, le=1e13)
    upfront_usd: float = field("One-time budget (USD)", "Cash for training runs and one-time services (and the "
                               "initial build's engineering time if includes_staff is set).", ge=0, le=1e13)
    includes_staff: bool = field(
        "Must these budgets also pay the engineering time?", "No (the default): they are cash for compute, APIs "
        "and services, and salaries come from the team's own budget.", False)
    revenue_per_request_usd: float | None = field(
        "Revenue per user request (USD)", "For unit economics, e.g. a $20/month seat used 400 times ≈ $0.05.",
        None, ge=0, le=1e6)


class Priorities(Section):
    """Weights of the decision criteria; a weight left empty takes the rule set's default (`rules/ruleset.toml`)."""

    quality: float | None = field("Weight of quality fit", "e.g. 2 to count quality twice.", None, ge=0, le=100)
    cost: float | None = field("Weight of cost", "e.g. 0.5 to count money half.", None, ge=0, le=100)
    speed: float | None = field("Weight of speed to market", "Time to market and delivery risk.", None, ge=0,
                                le=100)
    control: float | None = field("Weight of control", "Lock-in, data control, owning the model.", None, ge=0,
                                  le=100)


class Preferences(Section):
    """Preferences"""

    horizon_months: Count = field(
        "Planning horizon (months)", "How far ahead to compare total cost; 24 is typical.", 24, ge=1, le=120)
    time_to_market_weeks: Count | None = field(
        "Weeks until it must ship", "Leave empty if there is no deadline.", None, ge=1, le=10**4)
    vendor_lock_in: LockIn = field(
        "Vendor lock-in", "ok, or avoid (prefer open weights you control).", "ok")
    model_is_product: bool = field(
        "Is model quality itself your differentiator?", "True for a company whose product is the model.", False)
    priorities: Priorities = field(
        "How to weigh the criteria", "Weights for quality, cost, speed and control (DESIGN §11); empty ones take "
        "the rule set's defaults, e.g. {\"cost\": 2} counts cost twice.", default_factory=lambda: Priorities())


class Assumptions(Section):
    """Overrides of cost-model defaults (DESIGN §6). Leave a field out to use the catalog's sourced default."""

    api_model: str | None = field("Hosted API model (normal accuracy)", "A genai-prices model id, e.g. "
                                  "'gpt-4.1-mini'.", None)
    api_model_high_accuracy: str | None = field(
        "Hosted API model (high or regulated accuracy)", "A genai-prices model id, e.g. 'gpt-4.1'.", None)
    api_price_factor: float | None = field(
        "Multiplier on hosted-API list prices", "1 = genai-prices' list prices; 0.8 for a 20 % negotiated discount, "
        "or below 1 to model the price cuts expected over the horizon.", None, gt=0, le=10**1)
    fine_tune_api_model: str | None = field(
        "Hosted fine-tunable model (normal accuracy)", "A model with hosted fine-tuning prices in the catalog.", None)
    fine_tune_api_model_high_accuracy: str | None = field(
        "Hosted fine-tunable model (high or regulated accuracy, or a large gap)", "e.g. 'gpt-4.1'.", None)
    gpu: str | None = field("GPU for self-hosting and training", "One of the catalog's GPU ids, e.g. 'h100'.",
                            None)
    gpu_hourly_usd: float | None = field("GPU price (USD per GPU-hour)", "Your negotiated rate.", None, gt=0, le=1e4)
    precision: Precision | None = field(
        "Serving precision", "bf16, fp16, fp8, int8 or int4; empty: the cheaper of bf16 and fp8 that meets the "
        "latency target.", None)
    open_model_params: float | None = field(
        "Open model size for prompting a self-hosted model (parameters, normal accuracy)", "e.g. 8e9.", None,
        ge=1e6, le=2e12)
    open_model_params_high_accuracy: float | None = field(
        "Open model size for high or regulated accuracy (parameters)", "e.g. 70e9.", None, ge=1e6, le=2e12)
    fine_tuned_model_params: float | None = field(
        "Size of the open model you would fine-tune or continue pre-training (parameters)", "For narrow tasks "
        "(classification, extraction, ranking) and normal accuracy, e.g. 8e9.", None, ge=1e6, le=2e12)
    fine_tuned_model_params_high_accuracy: float | None = field(
        "Size of the open model to fine-tune for open-ended tasks at high accuracy (parameters)", "e.g. 70e9.",
        None, ge=1e6, le=2e12)
    pretrain_params: float | None = field(
        "Size of a model trained from scratch (parameters)", "Empty: Chinchilla-sized to your corpus.", None,
        ge=1e6, le=2e12)
    on_device_model_params: float | None = field("On-device model size (parameters)", "e.g. 3e9.", None,
                                                 ge=1e6, le=1e12)
    unknown_knowledge_base_tokens: float | None = field(
        "Knowledge base size priced when the profile leaves it unknown (tokens)", "Only for costs; rules see it as "
        "unknown.", None, ge=0, le=1e13)
    unknown_labeled_examples: float | None = field(
        "Labeled examples priced when the profile leaves them unknown", "Only for costs; rules see them as "
        "unknown.", None, ge=0, le=1e12)
    unknown_refresh_per_month: float | None = field(
        "Refreshes per month priced when the profile leaves freshness unknown", "Only for costs.", None, ge=0,
        le=1e5)
    on_device_precision: Precision | None = field("On-device precision", "Usually int4.", None)
    on_device_max_weight_gb: float | None = field("Largest model weights a device can hold (GB)", "", None, gt=0,
                                                  le=1e4)
    on_device_tokens_per_s: float | None = field("On-device generation speed (tokens/s)", "", None, ge=0.1, le=1e6)
    on_device_prefill_ms_per_token: float | None = field("On-device prompt processing (ms/token)", "", None,
                                                         gt=0, le=1e5)
    device_class: DeviceClass | None = field(
        "Device the on-device model runs on", "phone, laptop or edge-gpu (an edge GPU box); sets the speed and the "
        "largest model it holds.", None)
    api_price_change_per_year: float | None = field(
        "Hosted-API price change per year for the same capability", "0.2 = prices fall to a fifth each year; 1 = "
        "flat.", None, gt=0, le=2)
    gpu_price_change_per_year: float | None = field(
        "GPU-hour price change per year", "0.75 = a quarter cheaper each year; 1 = flat.", None, gt=0, le=2)
    rag_changed_share: float | None = field(
        "Share of the knowledge base a refresh re-embeds", "Only what changed is re-embedded.", None, ge=0, le=1)
    mfu: float | None = field("Model FLOPs utilization for training",
                              "Empty: by GPU generation and model size (catalog [training]).", None, ge=0.01, le=1)
    serving_efficiency: float | None = field(
        "Fraction of the roofline throughput real serving reaches", "", None, ge=0.01, le=1)
    serving_concurrency: Count | None = field("Sequences in flight per self-hosted replica", "", None, ge=1,
                                              le=4096)
    gpu_memory_utilization: float | None = field("Fraction of GPU memory the server may use", "", None,
                                                 ge=0.05, le=1)
    min_replicas: Count | None = field("Minimum self-hosted replicas for availability", "", None, ge=1, le=64)
    hours_per_month: float | None = field("Billed hours per month", "", None, gt=0, le=744)
    engineer_monthly_usd: float | None = field("Loaded monthly cost of one engineer (USD)", "", None, ge=0, le=1e7)
    fine_tune_epochs: float | None = field("Fine-tuning epochs", "", None, gt=0, le=10**2)
    rag_context_tokens: Count | None = field("Retrieved tokens added to each call by RAG", "", None, ge=0, le=10**8)
    rag_chunk_tokens: Count | None = field("Tokens per retrieved chunk", "", None, ge=1, le=10**8)
    rag_latency_ms: float | None = field("Retrieval latency added to each call (ms)", "", None, ge=0, le=1e7)
    cached_prompt_max_tokens: Count | None = field(
        "Largest knowledge base that can sit whole in a cached prompt (tokens)", "", None, ge=0, le=10**9)
    embedding_usd_per_mtok: float | None = field("Embedding price (USD per million tokens)", "", None, ge=0, le=1e4)
    embedding_dimensions: Count | None = field("Embedding vector dimensions", "", None, ge=1, le=10**6)
    vector_store_base_monthly_usd: float | None = field("Vector store minimum monthly fee (USD)", "", None, ge=0,
                                                        le=1e9)
    vector_store_usd_per_gb_month: float | None = field("Vector store storage (USD per GB-month)", "", None,
                                                        ge=0, le=1e6)
    vector_store_usd_per_million_queries: float | None = field(
        "Vector store queries (USD per million)", "", None, ge=0, le=1e6)
    api_ttft_ms: float | None = field("Hosted API time to first token (ms)", "", None, ge=0, le=1e7)
    api_output_tokens_per_s: float | None = field("Hosted API generation speed (tokens/s)", "", None, ge=0.1,
                                                  le=1e7)
    refresh_per_month_monthly: float | None = field("Refreshes per month for monthly-changing data", "", None,
                                                    ge=0, le=1e5)
    refresh_per_month_weekly: float | None = field("Refreshes per month for weekly-changing data", "", None, ge=0,
                                                   le=1e5)
    refresh_per_month_daily: float | None = field("Refreshes per month for daily or real-time data", "", None,
                                                  ge=0, le=1e5)
    refresh_per_month_static: float | None = field(
        "Refreshes per month for static data (base-model upgrades)", "", None, ge=0, le=1e5)
    fte_prompt: float | None = field("Ongoing engineers for a prompted feature (FTE)", "", None, ge=0, le=1e5)
    fte_rag: float | None = field("Extra ongoing engineers for a RAG pipeline (FTE)", "", None, ge=0, le=1e5)
    fte_fine_tune: float | None = field("Extra ongoing engineers for fine-tuning (FTE)", "", None, ge=0, le=1e5)
    fte_continued_pretrain: float | None = field("Extra ongoing engineers for continued pre-training (FTE)", "",
                                                 None, ge=0, le=1e5)
    fte_pretrain: float | None = field("Extra ongoing engineers for a model trained from scratch (FTE)", "",
                                       None, ge=0, le=1e5)
    fte_self_host: float | None = field("Extra ongoing engineers to run own GPUs (FTE)", "", None, ge=0, le=1e5)
    fte_on_device: float | None = field("Extra ongoing engineers for on-device delivery (FTE)", "", None, ge=0, le=1e5)
    setup_months_prompt: float | None = field("Engineer-months to build a prompted feature", "", None, ge=0, le=1e5)
    setup_months_rag: float | None = field("Extra engineer-months to build RAG", "", None, ge=0, le=1e5)
    setup_months_fine_tune: float | None = field("Extra engineer-months to fine-tune", "", None, ge=0, le=1e5)
    setup_months_continued_pretrain: float | None = field("Extra engineer-months for continued pre-training", "",
                                                          None, ge=0, le=1e5)
    setup_months_pretrain: float | None = field("Extra engineer-months to train from scratch", "", None, ge=0, le=1e5)
    setup_months_self_host: float | None = field("Extra engineer-months to stand up self-hosting", "", None,
                                                 ge=0, le=1e5)
    setup_months_on_device: float | None = field("Extra engineer-months for on-device delivery", "", None, ge=0, le=1e5)


class Range(Section):
    """An uncertain input: where its true value probably lies. `advisor sensitivity` samples it."""

    model_config = ConfigDict(strict=False)  # `{"low": 5000, "high": 50000}` for a float field is fine
    low: float = field("Lowest plausible value", "e.g. 5000 requests/day.")
    high: float = field("Highest plausible value", "e.g. 50000 requests/day.")
    distribution: Literal["uniform", "log-uniform"] = field(
        "How values are drawn between low and high", "log-uniform suits quantities known only to a factor "
        "(volumes, token counts); uniform suits rates such as MFU.", "uniform")

    @model_validator(mode="after")
    def _ordered(self) -> "Range":
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is above high ({self.high:g})")
        if self.distribution == "log-uniform" and self.low <= 0:
            raise ValueError("a log-uniform range needs low > 0")
        return self


# Fields that shape the comparison itself rather than estimate the world: never sampled.
NOT_UNCERTAIN = frozenset({"preferences.horizon_months"})


@cache
def numeric_fields() -> dict[str, tuple[FieldInfo, bool]]:
    """Every numeric profile input a range may cover: `section.field` → (its field, whether it is a count)."""
    out = {}
    for section, info in Profile.model_fields.items():
        sub = info.annotation
        if not (isinstance(sub, type) and issubclass(sub, Section)):
            continue
        for name, f in sub.model_fields.items():
            kinds = {a for a in (typing.get_args(f.annotation) or (f.annotation,)) if a is not type(None)}
            base = {typing.get_args(k)[0] if typing.get_origin(k) is Annotated else k for k in kinds}
            if base <= {int, float} and base and f"{section}.{name}" not in NOT_UNCERTAIN:
                out[f"{section}.{name}"] = (f, base == {int})
    return out


def limits(info: FieldInfo) -> tuple[float, float, bool]:
    """(lowest, highest, whether the lowest itself is excluded) that a numeric field's constraints allow."""
    lo, hi, exclusive = -math.inf, math.inf, False
    for m in info.metadata:
        if getattr(m, "ge", None) is not None:
            lo = m.ge
        if getattr(m, "gt", None) is not None:
            lo, exclusive = m.gt, True
        if getattr(m, "le", None) is not None:
            hi = m.le
    return lo, hi, exclusive


def check_value(path: str, value: float) -> float:
    """`value` checked against the constraints of the field at `path` (ValueError naming the limit)."""
    info, _count = numeric_fields()[path]
    adapter = TypeAdapter(Annotated[float, *info.metadata], config=ConfigDict(allow_inf_nan=False))
    try:
        return adapter.validate_python(value)
    except ValidationError as e:
        raise ValueError(e.errors(include_url=False)[0]["msg"].lower()) from None


def _known_inputs(ranges: dict[str, Range]) -> dict[str, Range]:
    fields = numeric_fields()
    for path, r in ranges.items():
        if path not in fields:
            raise ValueError(f"{path!r} is not a numeric input{did_you_mean(path, fields)}")
        for end in ("low", "high"):
            try:
                check_value(path, getattr(r, end))
            except ValueError as e:
                raise ValueError(f"{path}: {end} {getattr(r, end):g}: {e}") from None
    return ranges


# The profile's `uncertainty` section: ranges keyed by the path of a numeric input, each within that field's limits.
Ranges = Annotated[dict[str, Range], AfterValidator(_known_inputs)]


class Profile(Section):
    """A project profile: everything `advisor` needs to price and score the candidate paths."""

    model_config = ConfigDict(title="advisor project profile", json_schema_extra={
        "$schema": "https://json-schema.org/draft/2020-12/schema"})

    schema_version: Literal[1] = field("Profile format version", "Always 1.")
    project: Project
    data: Data
    quality: Quality
    latency: Latency
    usage: Usage
    team: Team
    budget: Budget
    preferences: Preferences = Field(default_factory=Preferences)
    assumptions: Assumptions = Field(default_factory=Assumptions)
    uncertainty: Ranges = field(
        "Ranges for uncertain numeric inputs", "Keyed by field path; `advisor sensitivity` samples them (others "
        "use the catalog's stated default ranges), e.g. {\"usage.requests_per_day\": {\"low\": 5000, "
        "\"high\": 50000}}.", default_factory=dict, max_length=100)


@dataclass(frozen=True)
class Kind:
    """What a field holds, as rule clauses and scenario frames see it: a number, a yes/no, or text (an enum's
    allowed values when it has them)."""

    name: Literal["number", "bool", "str"]
    values: tuple[str, ...] = ()


NUMBER, BOOL, STR = Kind("number"), Kind("bool"), Kind("str")


def kind_of(annotation: Any) -> Kind | None:
    """The kind of a field's annotation (optional fields included), or None for lists and tables."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return kind_of(typing.get_args(annotation)[0])
    if origin is Literal:
        return Kind("str", tuple(str(v) for v in typing.get_args(annotation)))
    if origin in (typing.Union, types.UnionType):
        kinds = [k for a in typing.get_args(annotation) if a is not type(None) and (k := kind_of(a))]
        return kinds[0] if len(kinds) == 1 else None
    if annotation is bool:
        return BOOL
    if annotation in (int, float):
        return NUMBER
    if annotation is str:
        return STR
    return None


def kinds_of(model: type[BaseModel], prefix: str) -> dict[str, Kind]:
    """`prefix + name` → kind for every scalar field of `model`."""
    return {f"{prefix}{name}": k for name, info in model.model_fields.items()
            if (k := kind_of(info.annotation)) is not None}


@cache
def profile_fields() -> dict[str, Kind]:
    """Every scalar field of a profile by its path (`usage.requests_per_day`, `preferences.priorities.cost`): what
    rules and frames read."""
    out: dict[str, Kind] = {}

    def walk(model: type[BaseModel], prefix: str) -> None:
        out.update(kinds_of(model, prefix))
        for name, info in model.model_fields.items():
            sub = info.annotation
            if isinstance(sub, type) and issubclass(sub, Section):
                walk(sub, f"{prefix}{name}.")

    for section, info in Profile.model_fields.items():
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, Section):
            walk(sub, f"{section}.")
    return out


def json_schema() -> dict[str, Any]:
    """The profile's JSON Schema, as `advisor schema` prints it."""
    return Profile.model_json_schema()


def choice_label(path: str, value: str) -> str:
    """A choice of a profile field in plain words (its schema `labels`), else the value without underscores."""
    section, name = path.split(".")
    info = Profile.model_fields[section].annotation.model_fields[name]  # type: ignore[union-attr]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    labels = extra.get("labels") or {}
    return str(labels.get(value, value.replace("_", " ")))
