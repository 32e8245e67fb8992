"""What a run returns (DESIGN §5): the decision JSON's models, the priced candidates and the batch summary line."""

from pydantic import BaseModel, ConfigDict

from .candidates import Candidate
from .catalog import Used
from .cost_model import Cost, Facts
from .rules import Reason, Veto
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


class Ranked(Path):
    eligible: bool
    vetoes: list[Veto]
    score: float
    reasons: list[Reason]
    cost_points: float
    cost: Cost
    facts: Facts


class Recommendation(Path):
    score: float
    confidence: str
    margin: float | None
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
    runner_up: str | None
    eligible: int
    all_vetoed: bool
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


ALL_VETOED = "every candidate is vetoed; the least-bad one is shown — revisit the constraints"
