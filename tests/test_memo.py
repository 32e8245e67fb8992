"""The decision memo: golden files, no template debris, a chart that matches the JSON, computed flip points, and
templates that cannot escape the sandbox. Regenerate the golden files with `UPDATE_GOLDEN=1 pytest tests/test_memo.py`
after an intended change, and read the diff."""

import json
import os
import re

import pytest
from conftest import EXAMPLES, ROOT, example_data
from typer.testing import CliRunner

import advisor
from advisor.cli import app
from advisor.fmt import usd
from advisor.robustness import KNOBS, RESIDENCY

runner = CliRunner()
GOLDEN = ROOT / "tests" / "golden"
DATE = "2026-11-23"


def memo_of(path, *args):
    r = runner.invoke(app, ["decide", str(path), "--date", DATE, *args])
    assert r.exit_code == 0, r.output
    return r.stdout


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def check_markdown(text: str) -> list[str]:
    """Everything a reader must never see: template debris, non-values, empty sections, ragged tables."""
    problems = []
    for bad in ("None", "{{", "{%", "}}", "%}", "Undefined"):
        if bad in text:
            problems.append(f"contains {bad!r}")
    for bad in (r"\bnan\b", r"\binf\b", r"\bNaN\b", r"\bInfinity\b"):
        if re.search(bad, text):
            problems.append(f"contains {bad}")
    sections = re.split(r"^#{1,3} .*$", text, flags=re.M)
    for i, body in enumerate(sections[1:], 1):
        if not body.strip():
            problems.append(f"section {i} is empty")
    table: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            widths = {unescaped_pipes(row) for row in table}
            if len(widths) != 1:
                problems.append(f"ragged table starting {table[0][:60]!r}: {sorted(widths)}")
            table = []
    return problems


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_memo_matches_its_golden_file(path):
    text = memo_of(path)
    golden = GOLDEN / f"{path.stem}.md"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text)
    assert golden.exists(), f"no golden file for {path.stem}: run UPDATE_GOLDEN=1 pytest {__file__}"
    assert text == golden.read_text()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_memo_has_no_debris_empty_sections_or_ragged_tables(path):
    assert check_markdown(memo_of(path)) == []


def test_the_checker_catches_what_it_claims_to():
    assert check_markdown("# A\n\n# B\ntext\n") == ["section 1 is empty"]
    assert check_markdown("# A\n| a | b |\n|---|---|\n| 1 | 2 | 3 |\n") != []
    assert check_markdown("# A\nvalue: None\n") == ["contains 'None'"]
    assert check_markdown("# A\ncost nan\n") == [r"contains \bnan\b"]
    assert check_markdown("# A\n| a \\| b | c |\n|---|---|\n") == []


def test_memo_sections_follow_the_decision_record():
    text = memo_of(ROOT / "examples" / "support-copilot.json")
    headings = re.findall(r"^##+ (.*)$", text, flags=re.M)
    assert headings == ["Requirements", "Cost at a glance", "Runner-up: `fine-tune+rag@self-host`",
                        "What would change it", "Risks", "Plan", "Appendix", "All options", "Assumptions",
                        "Rule trace"]
    front = text.split("---\n")[1]
    assert f"date: {DATE}" in front and "status: proposed" in front and "deciders:" in front


BODY_WORDS = 1200


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_body_is_short_names_the_model_and_hardware_and_says_only_what_applies(path):
    text = memo_of(path)
    body = text.split("\n## Appendix")[0].split("---\n", 2)[2]
    assert len(re.findall(r"\S+", body)) <= BODY_WORDS
    d = advisor.decide(path)
    top, p = d.ranking[0], d.profile
    assert f"`{top.model.id}`" in body.split("## Requirements")[0]  # the decision names its model
    if top.model.gpu:
        gpu = advisor.load_catalog().gpus[top.model.gpu].name
        assert f"{top.model.gpus_per_replica} × {gpu}" in body and f"at {top.model.precision}" in body
    if top.model.device:
        assert advisor.load_catalog().devices[top.model.device].name in body
    # each conditional sentence appears exactly when its condition holds
    assert ("Meet the residency need" in body) == (p.data.residency == "region" and top.serving == "api")
    assert ("| Data residency |" in body) == (p.data.residency != "none")
    assert ("| Time to market |" in body) == (p.preferences.time_to_market_weeks is not None)
    assert ("## Unknowns that matter" in body) == any(" is unknown (" in w for w in d.warnings)
    assert ("A close call" in body) == (d.recommendation.confidence == "low" and d.recommendation.margin is not None)
    assert ("No path meets every must-have" in body) == (not d.recommendation.viable)
    prototype = "Before product-market fit"
    assert prototype not in body or p.project.stage in ("idea", "prototype")
    assert "&amp;" not in text and " a interactive" not in text and "(0.0 GB)" not in text


def test_date_defaults_to_today_and_bad_dates_are_refused():
    import datetime

    r = runner.invoke(app, ["decide", str(ROOT / "examples" / "customer-chatbot.json")])
    assert f"date: {datetime.date.today().isoformat()}" in r.stdout
    r = runner.invoke(app, ["decide", str(ROOT / "examples" / "customer-chatbot.json"), "--date", "23/11/2026"])
    assert r.exit_code == 1 and "--date '23/11/2026': not a date; use YYYY-MM-DD" in r.stderr


# -- the chart ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["support-copilot", "frontier-lab", "content-moderation"])
def test_mermaid_series_has_one_value_per_month_matching_the_json(name):
    path = ROOT / "examples" / f"{name}.json"
    text = memo_of(path)
    decision = json.loads(runner.invoke(app, ["decide", str(path), "--format", "json"]).stdout)
    months = decision["profile"]["preferences"]["horizon_months"]
    block = re.search(r"```mermaid\n(.*?)```", text, flags=re.S).group(1)
    assert block.startswith("xychart-beta") and "legend" not in block
    x_axis = re.search(r'x-axis "month" \[(.*)\]', block).group(1).split(", ")
    assert x_axis == [str(m) for m in range(1, months + 1)]
    series = [[int(v) for v in line.split(", ")] for line in re.findall(r"^ {4}line \[(.*)\]$", block, flags=re.M)]
    legend = re.search(r"^\| spent by month \| (.*) \|$", text, flags=re.M).group(1)
    ids = re.findall(r"\d\. `([^`]+)`", legend)
    eligible = [c for c in decision["ranking"] if c["eligible"]]
    assert ids == [c["id"] for c in eligible[:3]] and len(series) == len(ids)
    by_id = {c["id"]: c for c in decision["ranking"]}
    for cid, values in zip(ids, series, strict=False):
        cost = by_id[cid]["cost"]
        assert len(values) == months
        running = cost["upfront_usd"]
        for value, monthly in zip(values, cost["monthly_usd"], strict=False):
            running += monthly
            assert abs(value - running) <= 0.5 + 1e-9 * running
        assert abs(values[-1] - cost["tco_usd"]) <= 0.5 + 1e-9 * cost["tco_usd"]


# -- what would change the decision -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["support-copilot", "saas-ai-features", "pre-pmf-startup",
                                  "customer-chatbot"])
def test_each_stated_change_gives_the_stated_winner(name):
    profile = advisor.load_profile(example_data(name))
    base = advisor.decide(profile).recommendation.id
    changes = advisor.evaluate(profile).changes
    assert changes, "these examples all have at least one flip point"
    knobs = {k.input: k for k in KNOBS}
    for c in changes:
        if c.input == "data.residency":
            changed = profile.model_copy(update={"data": profile.data.model_copy(update={"residency": c.value})})
        else:
            changed = knobs[c.input].set(profile, c.value)
        assert advisor.decide(changed).recommendation.id == c.winner != base, c
        # and the change is the smallest found: half-way back towards the current value keeps the winner
        if c.input != "data.residency" and c.input != "usage.monthly_growth":
            knob = knobs[c.input]
            current = knob.get(advisor.evaluate(profile))
            back = (current * c.value) ** 0.5 if current > 0 else c.value / 2
            back = round(back) if knob.integer else back
            if back not in (current, c.value):
                # not guaranteed in general (the winner can change and change back), but true on these examples
                assert advisor.decide(knob.set(profile, back)).recommendation.id in (base, c.winner)


def test_the_memo_states_the_computed_changes():
    path = ROOT / "examples" / "support-copilot.json"
    profile = advisor.load_profile(path)
    text = memo_of(path)
    section = text.split("## What would change it")[1].split("\n## ")[0]
    changes = advisor.evaluate(profile).changes
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == len(changes)
    for row, c in zip(rows, changes, strict=False):
        assert row.startswith(f"| {c.label} |") and row.endswith(f"| `{c.winner}` |")


def test_a_robust_decision_says_so():
    # nothing in the searched ranges moves an offline phone app off the device
    profile = advisor.load_profile(example_data("offline-phone-summarizer"))
    assert advisor.evaluate(profile).changes == []
    assert "makes another viable path win" in memo_of(ROOT / "examples" / "offline-phone-summarizer.json")


def test_residency_is_searched_in_both_directions():
    assert RESIDENCY == ("none", "region", "on_prem", "air_gapped")
    stricter = [c for c in advisor.evaluate(example_data("support-copilot")).changes if c.input == "data.residency"]
    assert stricter and stricter[0].direction == "stricter" and stricter[0].winner.endswith("@self-host")
    data = example_data("support-copilot")
    data["data"]["residency"] = "on_prem"
    looser = [c for c in advisor.evaluate(data).changes if c.input == "data.residency"]
    assert looser and looser[0].direction == "looser" and looser[0].winner.endswith("@api")


# -- text from the profile cannot break the Markdown -------------------------------------------------------------

def test_profile_text_is_escaped(tmp_path):
    data = example_data("customer-chatbot")
    data["project"]["name"] = "Acme | <script>alert(1)</script> # [x](javascript:y) *bold*"
    data["project"]["description"] = "Line one\n\n## Injected heading\n| a | b |"
    data["project"]["deciders"] = ['CTO "Sam"', "Head: Support"]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    text = memo_of(path)
    assert "<script>" not in text and "## Injected heading" not in text
    assert "\\<script\\>" in text and "\\[x\\]\\(javascript:y\\)" in text
    assert 'deciders: "CTO \\"Sam\\", Head: Support"' in text
    assert check_markdown(text) == []


# -- user templates: sandboxed ------------------------------------------------------------------------------------

@pytest.mark.parametrize("source,fragment", [
    ("{{ ''.__class__.__mro__ }}", "unsafe"),
    ("{{ d.__class__.__init__.__globals__ }}", "unsafe"),
    ("{{ p.model_copy.__func__ }}", "unsafe"),
    ("{% include '/etc/passwd' %}", "/etc/passwd"),
    ("{{ missing_variable }}", "'missing_variable' is undefined"),
    ("{% for x in %}", "line 1"),
])
def test_hostile_or_broken_templates_are_refused(tmp_path, source, fragment):
    template = tmp_path / "t.j2"
    template.write_text(source)
    out = tmp_path / "memo.md"
    r = runner.invoke(app, ["decide", str(ROOT / "examples" / "customer-chatbot.json"), "--template", str(template),
                            "--out", str(out)])
    assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    assert r.stderr.startswith(f"advisor: error: {template}") and fragment in r.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [template]


def test_a_user_template_can_extend_the_shipped_memo(tmp_path):
    template = tmp_path / "short.md.j2"
    template.write_text('{% extends "decision.md.j2" %}{% block assumptions %}See `advisor catalog`.\n{% endblock %}')
    out = tmp_path / "memo.md"
    r = runner.invoke(app, ["decide", str(ROOT / "examples" / "customer-chatbot.json"), "--template", str(template),
                            "--date", DATE, "--out", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert "### Assumptions\n\nSee `advisor catalog`.\n" in text and "| `api_model` |" not in text
    assert "**Decision:** Prompt a general model on a hosted API" in text


def test_a_standalone_user_template_gets_the_memo_variables(tmp_path):
    template = tmp_path / "one-line.j2"
    template.write_text("{{ p.project.name | md }}: {{ top.id }} ({{ top.cost.tco_usd | usd }}), "
                        "{{ changes | length }} flip points\n")
    r = runner.invoke(app, ["decide", str(ROOT / "examples" / "customer-chatbot.json"), "--template", str(template)])
    assert r.exit_code == 0, r.output
    tco = advisor.decide(ROOT / "examples" / "customer-chatbot.json").ranking[0].cost.tco_usd
    assert re.fullmatch(rf"Customer-facing chatbot: prompt@api \({re.escape(usd(tco))}\), \d+ flip points\n", r.stdout)


def test_template_with_json_format_is_a_usage_mistake(tmp_path):
    template = tmp_path / "t.j2"
    template.write_text("x")
    r = runner.invoke(app, ["decide", str(ROOT / "examples" / "customer-chatbot.json"), "--format", "json",
                            "--template", str(template)])
    assert r.exit_code == 1 and "--template applies to --format markdown" in r.stderr
