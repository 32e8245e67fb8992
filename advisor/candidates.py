"""The decision space (DESIGN §3): adaptation × retrieval × serving, minus combinations that cannot exist."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from .errors import UnknownIdError, did_you_mean

Adaptation = Literal["prompt", "fine-tune", "continued-pretrain", "pretrain"]
Serving = Literal["api", "self-host", "on-device"]
ADAPTATIONS: tuple[Adaptation, ...] = ("prompt", "fine-tune", "continued-pretrain", "pretrain")
SERVINGS: tuple[Serving, ...] = ("api", "self-host", "on-device")

_LABELS = {
    "prompt": "Prompt a general model",
    "fine-tune": "Fine-tune a model",
    "continued-pretrain": "Continue pre-training open weights",
    "pretrain": "Train a model from scratch",
}
_WHERE = {"api": "on a hosted API", "self-host": "on own GPUs", "on-device": "on the user's device"}
_ID = re.compile(r"^(prompt|fine-tune|continued-pretrain|pretrain)(\+rag)?@(api|self-host|on-device)$")


@dataclass(frozen=True, order=True)
class Candidate:
    adaptation: Adaptation
    rag: bool
    serving: Serving

    @property
    def id(self) -> str:
        return f"{self.adaptation}{'+rag' if self.rag else ''}@{self.serving}"

    @property
    def retrieval(self) -> str:
        return "rag" if self.rag else "none"

    @property
    def label(self) -> str:
        return f"{_LABELS[self.adaptation]}{' with retrieval (RAG)' if self.rag else ''} {_WHERE[self.serving]}"

    @property
    def api_twin(self) -> Candidate:
        """The hosted-API path a self-hosted or on-device candidate is compared with for break-even."""
        adaptation = self.adaptation if self.adaptation in ("prompt", "fine-tune") else "prompt"
        return Candidate(adaptation, self.rag, "api")


def possible(adaptation: str, serving: str) -> bool:
    # No provider hosts continued pre-training or from-scratch training of your own model behind its API.
    return not (serving == "api" and adaptation in ("continued-pretrain", "pretrain"))


@cache
def all_candidates() -> tuple[Candidate, ...]:
    return tuple(
        Candidate(a, rag, s) for a in ADAPTATIONS for rag in (False, True) for s in SERVINGS if possible(a, s)
    )


def parse(candidate_id: str) -> Candidate:
    m = _ID.match(candidate_id)
    if not m or not possible(m[1], m[3]):
        known = [c.id for c in all_candidates()]
        raise UnknownIdError(f"unknown candidate {candidate_id!r}{did_you_mean(candidate_id, known)}")
    return Candidate(m[1], bool(m[2]), m[3])  # type: ignore[arg-type]
