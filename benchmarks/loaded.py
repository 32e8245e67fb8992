"""advisor's own start-up floor: everything `advisor decide` loads — its entry point, the command line's parser, the
engine, the catalog, the rules, the price table and the validated profile — and no decision. `benchmarks/run.py`
times it against `floor.py` to show how much of a command's time is start-up that no decision-side work can remove."""

import json
import sys

import typer._adapters  # noqa: F401 — imported by typer when it parses a command line

from advisor.entry import main  # noqa: F401 — the console entry point's imports
from advisor.evaluation import Advisor
from advisor.robustness import win_shares  # noqa: F401 — every decision's Monte Carlo

advisor = Advisor()
advisor.catalog, advisor.rules, advisor.prices  # noqa: B018 — loaded as a command loads them
profile = advisor.evaluate(sys.argv[1]).profile
sys.stdout.write(json.dumps({"project": profile.project.name}) + "\n")
