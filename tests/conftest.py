import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import advisor
from advisor.io import load_profile

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))

# CI runs derandomized with a fixed budget; `HYPOTHESIS_PROFILE=long pytest` explores more locally.
settings.register_profile("ci", derandomize=True, max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
# The release run: ADVISOR_LONG_TESTS=1 pytest — the end-to-end fuzz and batch-equivalence tests at full size.
LONG = bool(os.environ.get("ADVISOR_LONG_TESTS"))


def example_data(name: str) -> dict:
    return json.loads((ROOT / "examples" / f"{name}.json").read_text())


def changed_example(**changes) -> bytes:
    """The customer-chatbot example with `section.field` changes (None deletes), as JSON bytes."""
    data = example_data("customer-chatbot")
    for path, value in changes.items():
        *parents, name = path.split(".")
        target = data
        for p in parents:
            target = target.setdefault(p, {})
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
    return json.dumps(data).encode()


@pytest.fixture
def chatbot() -> dict:
    return example_data("customer-chatbot")


def profile_of(data: dict):
    return load_profile(data)


def priced(profile, catalog=None) -> dict:
    """Every candidate's costs and facts, by id."""
    return {p.id: p for p in advisor.costs(profile, catalog=catalog)}
