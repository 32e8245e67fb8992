"""The README is tested against the product: its commands exist and its worked example matches the engine."""

import re

from conftest import ROOT
from typer.testing import CliRunner

import advisor
from advisor.cli import app

README = (ROOT / "README.md").read_text()


def _minus(x: float) -> str:
    return f"{x:.1f}".replace("-", "−")


def test_worked_scoring_example_matches_the_engine():
    d = advisor.decide(ROOT / "examples" / "customer-chatbot.json")
    first, second = d.ranking[0], d.ranking[1]
    assert (first.id, second.id) == ("prompt@api", "prompt+rag@api")
    assert f"**{first.score:.1f}**" in README and f"**{second.score:.1f}**" in README
    share = f"{d.recommendation.win_share:.0%}".replace("%", " %")
    assert f"wins by {d.recommendation.margin:.1f} points, in {share}" in README
    assert f"= {_minus(second.cost_points)}" in README and d.recommendation.confidence == "high"
    for r in (first, second):
        for reason in r.reasons:
            assert f"`{reason.rule}`" in README


def test_every_command_in_the_readme_table_exists():
    documented = set(re.findall(r"^\| `advisor ([a-z]+)", README, flags=re.M))
    assert {"decide", "explain", "sensitivity", "batch", "rules", "costs", "estimate", "schema", "example",
            "catalog"} <= documented
    for name in documented:
        r = CliRunner().invoke(app, [name, "--help"])
        assert r.exit_code == 0, (name, r.output)


def test_the_error_section_states_the_corpus_size():
    from test_bad_input import CASES

    assert f"`tests/test_bad_input.py` ({len(CASES)} cases" in README


def test_readme_calibration_table_is_current():
    from calibration_report import readme_with_table

    assert readme_with_table(README) == README, "run: python tests/calibration_report.py --write"
