"""What a run returns (DESIGN §5): the decision JSON's models, the priced candidates and the batch summary line."""

from typing import Literal

from pydantic import BaseModel, ConfigDict

from .candidates import Candidate
from .catalog import Used
from .cost_model import Cost, Facts
from .rules import FitLevel, Reason, Veto
from .schema import Profile


class Path(BaseModel):
    """A candidate path as every result names it."""

    id: str
    adaptation: str
    retrieval: str
    serving: str
    label: str

    @classmethod
    def fields_of(cls, c: Candidate) -> dict[str, str]:
        return {"id": c.id, "adaptation": c.adaptation, "retrieval": c.retrieval, "serving": c.serving,
                "label": c.label}


class Priced(Path):
    """A candidate's costs and facts (`advisor costs`)."""

    model_config = ConfigDict(frozen=True)
    cost: Cost
    facts: Facts


class Model(BaseModel):
    """The concrete model and hardware a candidate's figures are for."""

    kind: Literal["api", "open", "device"]
    id: str  # a genai-prices id (hosted), or the reference open model of the assumed size
    params: float | None  # None for a hosted model
    precision: str | None
    gpu: str | None  # self-hosted only
    gpus_per_replica: int | None
    batch_per_replica: int | None = None  # self-hosted: sequences a replica runs at once
    device: str | None = None  # on-device: the device class


class QualityFit(BaseModel):
    """Will this path reach the quality the product needs, and on what evidence."""

    fit: FitLevel
    basis: list[str]


class LatencyFit(BaseModel):
    p95_ms: float  # the estimate
    target_ms: float
    applies_to: Literal["first_token", "full_response"]
    meets: bool


class Criteria(BaseModel):
    """Each criterion's points (weighted); they add up to the score."""

    quality: float
    cost: float
    speed: float
    control: float


class Ranked(Path):
    eligible: bool  # passes every must-have
    vetoes: list[Veto]
    score: float
    reasons: list[Reason]
    cost_points: float
    criteria: Criteria
    model: Model
    quality: QualityFit
    latency: LatencyFit
    cost: Cost
    facts: Facts


class Recommendation(Path):
    score: float
    confidence: Literal["high", "medium", "low"]
    margin: float | None
    viable: bool  # it passes every must-have; if not, it is the closest path and `summary` says what must change
    win_share: float  # its share of first place over the Monte Carlo scenarios
    win_share_draws: int  # how many scenarios that share rests on (50, 250 or 1,000: robustness.SHARE_STAGES)
    summary: str


class RulesetInfo(BaseModel):
    version: str
    digest: str


class Decision(BaseModel):
    """The decision JSON (DESIGN §5). It carries its validated profile, so it says what it was decided on."""

    schema_version: int = 1
    project: str
    recommendation: Recommendation
    ranking: list[Ranked]
    assumptions: list[Used]
    ruleset: RulesetInfo
    advisor_version: str
    warnings: list[str]
    profile: Profile


class Summary(BaseModel):
    """One line of `advisor batch` output: a decision in one line."""

    line: int
    ok: bool = True
    project: str
    recommendation: str
    label: str
    score: float
    confidence: str
    margin: float | None
    viable: bool
    win_share: float
    win_share_draws: int
    runner_up: str | None
    eligible: int
    tco_usd: float
    upfront_usd: float
    monthly_usd_first: float
    monthly_usd_last: float
    cost_per_request_usd: float | None
    horizon_months: int


class Failure(BaseModel):
    """One line of `advisor batch` output for a line that could not be decided."""

    line: int
    ok: bool = False
    error: str


NOT_VIABLE = "no path meets every must-have; the closest one is shown with what would have to change"
