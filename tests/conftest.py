import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from advisor.io import load_profile

# Hermetic: the start-up cache (advisor/cache.py) lives in a fresh directory for each test run.
_CACHE = tempfile.TemporaryDirectory(prefix="advisor-test-cache-")  # removed when the test run ends
os.environ["ADVISOR_CACHE_DIR"] = _CACHE.name

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))

# CI runs derandomized with a fixed budget; `HYPOTHESIS_PROFILE=long pytest` explores more locally.
settings.register_profile("ci", derandomize=True, max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def example_data(name: str) -> dict:
    return json.loads((ROOT / "examples" / f"{name}.json").read_text())


@pytest.fixture
def chatbot() -> dict:
    return example_data("customer-chatbot")


def profile_of(data: dict):
    return load_profile(data)
