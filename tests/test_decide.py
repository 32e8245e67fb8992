"""`advisor decide`: expected outcomes on the shipped examples (from the seeds), the JSON contract, determinism."""

import json
import re

import pytest
from conftest import EXAMPLES, ROOT, example_data
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import advisor
from advisor.cli import app
from advisor.decision import Decision

runner = CliRunner()
TRAINING = ("fine-tune", "continued-pretrain", "pretrain")


def winner(name: str) -> advisor.Decision:
    return advisor.decide(ROOT / "examples" / f"{name}.json")


# (example, allowed winners, candidate ids that must not win) — each line is a seed scenario.
OUTCOMES = [
    # A customer-facing chatbot with no special data: prompt a hosted model.
    ("customer-chatbot", {"prompt@api"}, {"fine-tune@api", "prompt@self-host", "pretrain@self-host"}),
    # Autonomous agents for workflow automation: a hosted API, and no training.
    ("workflow-agents", {"prompt@api", "prompt+rag@api"}, {"fine-tune@api", "prompt@self-host", "pretrain@self-host"}),
    # AI features across a SaaS product drawing on customer documents: hosted API with RAG.
    ("saas-ai-features", {"prompt+rag@api"}, {"prompt@api", "fine-tune@self-host", "pretrain@self-host"}),
    # Competing with frontier labs, $100M+, the model is the product: train from scratch on own GPUs.
    ("frontier-lab", {"pretrain@self-host"}, {"prompt@api", "fine-tune@api", "fine-tune@self-host"}),
    # A foundation model for an underserved language with a large corpus: (continued) pre-training, self-hosted.
    ("underserved-language", {"continued-pretrain@self-host", "pretrain@self-host"}, {"prompt@api", "prompt+rag@api"}),
    # Real-time moderation at millions of items a day with labels: a fine-tuned model, self-hosted at that volume.
    ("content-moderation", {"fine-tune@self-host"}, {"prompt@api", "prompt@self-host", "pretrain@self-host"}),
    # Adapting an open-weight model for enterprise compliance, data on-prem: fine-tune, self-hosted.
    ("enterprise-compliance", {"fine-tune@self-host", "fine-tune+rag@self-host"},
     {"prompt@api", "fine-tune@api", "prompt+rag@api"}),
    # An offline phone summarizer: on the device.
    ("offline-phone-summarizer", {"prompt@on-device", "fine-tune@on-device"}, {"prompt@api", "prompt@self-host"}),
    # Unique endpoint telemetry, unlike anything text models saw: a model of its own, not a text model continued on it.
    ("threat-telemetry", {"pretrain@self-host"}, {"continued-pretrain@self-host", "prompt@api", "fine-tune@api"}),
    # Pre-product-market-fit startup with no data: never any training.
    ("pre-pmf-startup", {"prompt@api", "prompt+rag@api"}, set()),
]


@pytest.mark.parametrize("name,allowed,forbidden", OUTCOMES, ids=[o[0] for o in OUTCOMES])
def test_seed_scenarios_get_the_expected_path(name, allowed, forbidden):
    d = winner(name)
    assert d.recommendation.id in allowed, [(r.id, r.score) for r in d.ranking[:4]]
    assert d.recommendation.id not in forbidden
    assert d.recommendation.viable  # a path that passes every must-have, not the least-bad of vetoed candidates


def test_pre_pmf_startup_is_never_told_to_train():
    d = winner("pre-pmf-startup")
    assert d.recommendation.adaptation not in TRAINING
    # training is not merely ranked lower: with no data, every training path is vetoed
    assert all(not r.eligible for r in d.ranking if r.adaptation in TRAINING)


def test_forbidden_paths_are_excluded_for_the_stated_reason():
    compliance = {r.id: r for r in winner("enterprise-compliance").ranking}
    assert "residency-keeps-data-off-apis" in [v.rule for v in compliance["prompt@api"].vetoes]
    phone = {r.id: r for r in winner("offline-phone-summarizer").ranking}
    assert {v.rule for v in phone["prompt@api"].vetoes} >= {"offline-needs-local-model"}


def test_self_hosting_is_chosen_because_volume_passes_break_even():
    d = winner("content-moderation")
    top = d.ranking[0]
    assert top.facts.break_even_month is not None
    api_twin = next(r for r in d.ranking if r.id == "fine-tune@api")
    assert top.cost.tco_usd < api_twin.cost.tco_usd


def test_vetoed_candidates_show_every_veto_and_rank_after_eligible_ones():
    d = winner("pre-pmf-startup")
    seen_vetoed = False
    for r in d.ranking:
        seen_vetoed |= not r.eligible
        assert r.eligible or r.vetoes
        assert not (seen_vetoed and r.eligible), "an eligible candidate ranked after a vetoed one"
    pretrain = next(r for r in d.ranking if r.id == "pretrain@self-host")
    assert len(pretrain.vetoes) >= 2 and all(v.why for v in pretrain.vetoes)


def test_score_is_the_criteria_and_the_reasons_add_up_to_it():
    rules = advisor.load_rules()
    for name in ("frontier-lab", "support-copilot"):
        for r in winner(name).ranking:
            assert r.score == pytest.approx(sum(x.points for x in r.reasons), abs=1e-5)
            c = r.criteria
            assert r.score == pytest.approx(c.quality + c.cost + c.speed + c.control, abs=1e-5)
            assert -rules.policy.cost_cap <= r.cost_points <= 0


def test_confidence_is_high_only_for_a_sound_clear_and_robust_winner():
    policy = advisor.load_rules().policy.confidence
    for path in EXAMPLES:
        d = advisor.decide(path)
        rec, top = d.recommendation, d.ranking[0]
        sound = rec.viable and top.quality.fit in ("meets", "likely") and top.latency.meets
        clear = rec.margin is None or rec.margin >= policy.high_margin
        if rec.confidence == "high":
            assert sound and clear and rec.win_share >= policy.high_share, path.stem
        if not rec.viable:
            assert rec.confidence == "low", path.stem
        if rec.confidence == "medium":
            assert (rec.margin is None or rec.margin >= policy.medium_margin) and rec.win_share >= policy.medium_share


def test_a_profile_that_vetoes_everything_says_so(chatbot):
    chatbot["latency"].update(p95_ms=1, deployment="edge")
    d = advisor.decide(chatbot)
    assert not d.ranking[0].eligible and not d.recommendation.viable and d.recommendation.confidence == "low"
    assert any("no path meets every must-have" in w for w in d.warnings)


# -- the JSON contract (DESIGN §5) -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_decide_json_follows_the_contract(path):
    r = runner.invoke(app, ["decide", str(path), "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert set(out["recommendation"]) >= {"id", "adaptation", "retrieval", "serving", "label", "score",
                                          "confidence", "summary"}
    assert re.fullmatch(r"(prompt|fine-tune|continued-pretrain|pretrain)(\+rag)?@(api|self-host|on-device)",
                        out["recommendation"]["id"])
    months = out["profile"]["preferences"]["horizon_months"]
    assert len(out["ranking"]) == 20 and out["ranking"][0]["id"] == out["recommendation"]["id"]
    for c in out["ranking"]:
        assert set(c) >= {"id", "adaptation", "retrieval", "serving", "eligible", "vetoes", "score", "reasons", "cost"}
        assert set(c["cost"]) >= {"upfront_usd", "monthly_usd_first", "monthly_usd_last", "tco_usd",
                                  "cost_per_request_usd", "monthly_usd"}
        assert len(c["cost"]["monthly_usd"]) == months
        assert all(set(x) >= {"rule", "points", "why", "source"} for x in c["reasons"])
        assert all(set(v) >= {"rule", "why"} for v in c["vetoes"])
    assert all(a["source"] and a["date"] for a in out["assumptions"])
    assert set(out["ruleset"]) == {"version", "digest"} and out["advisor_version"] == advisor.__version__
    assert isinstance(out["warnings"], list)


def test_same_profile_gives_byte_identical_json():
    path = str(ROOT / "examples" / "support-copilot.json")
    outputs = {runner.invoke(app, ["decide", path, "--format", "json"]).stdout for _ in range(3)}
    assert len(outputs) == 1


@settings(max_examples=15)
@given(rpd=st.floats(0, 5e6), growth=st.floats(-0.5, 2), months=st.integers(1, 120))
def test_decision_json_round_trips_and_is_deterministic(rpd, growth, months):
    data = example_data("saas-ai-features")
    data["usage"].update(requests_per_day=rpd, monthly_growth=growth)
    data.setdefault("preferences", {})["horizon_months"] = months
    first = advisor.decide(data)
    text = first.model_dump_json()
    assert Decision.model_validate_json(text) == first
    assert advisor.decide(first.profile).model_dump_json() == text


def test_library_accepts_path_dict_or_profile(chatbot):
    by_path = advisor.decide(str(ROOT / "examples" / "customer-chatbot.json"))
    assert advisor.decide(chatbot) == by_path == advisor.decide(advisor.load_profile(chatbot))


# -- the command line ---------------------------------------------------------------------------------------------

def test_decide_markdown_is_a_memo_naming_the_winner():
    r = runner.invoke(app, ["decide", str(ROOT / "examples" / "customer-chatbot.json")])
    assert r.exit_code == 0, r.output
    assert "**Decision:** Prompt a general model on a hosted API — `prompt@api`: `gpt-6-luna`" in r.stdout
    assert "## Requirements" in r.stdout and "## Appendix" in r.stdout
    for debris in ("None", "nan", "{{", "{%"):
        assert debris not in r.stdout


def test_decide_reads_stdin_and_writes_out_atomically(tmp_path):
    text = (ROOT / "examples" / "customer-chatbot.json").read_text()
    out = tmp_path / "decision.json"
    r = runner.invoke(app, ["decide", "-", "--format", "json", "--out", str(out)], input=text)
    assert r.exit_code == 0, r.output
    assert r.stdout == "" and json.loads(out.read_text())["recommendation"]["id"] == "prompt@api"
    assert [p.name for p in tmp_path.iterdir()] == ["decision.json"]


def test_decide_bad_input_is_one_line_and_no_output_file(tmp_path):
    out = tmp_path / "memo.md"
    r = runner.invoke(app, ["decide", "-", "--out", str(out)], input="{not json")
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert r.stderr.startswith("advisor: error: <stdin>: not valid JSON") and r.stderr.count("\n") == 1
    assert not out.exists()


def test_decide_with_extra_rules_dir_changes_the_outcome(tmp_path):
    (tmp_path / "house.toml").write_text('''
[[rule]]
id = "house-policy-no-hosted-apis"
title = "House policy: no hosted APIs"
applies = { serving = ["api"] }
when.all = ["project.stage != 'idea'"]
veto = true
why = "Company policy forbids sending customer text to hosted APIs."
source = "Internal security policy SEC-12"
''')
    r = runner.invoke(app, ["decide", str(ROOT / "examples" / "customer-chatbot.json"), "--format", "json",
                            "--rules", str(tmp_path)])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert not out["recommendation"]["id"].endswith("@api")
    api = next(c for c in out["ranking"] if c["id"] == "prompt@api")
    assert {"rule": "house-policy-no-hosted-apis",
            "why": "Company policy forbids sending customer text to hosted APIs."} in api["vetoes"]
    assert out["ruleset"]["digest"] != advisor.load_rules().digest


def test_explain_shows_every_clause_with_its_values():
    r = runner.invoke(app, ["explain", str(ROOT / "examples" / "customer-chatbot.json"), "-c", "prompt@api",
                            "--format", "json"])
    assert r.exit_code == 0, r.output
    (cand,) = json.loads(r.stdout)
    assert cand["id"] == "prompt@api"
    rules = {x["rule"]: x for x in cand["rules"]}
    assert rules["inference-first"]["fired"] is True and rules["inference-first"]["effect"] == 10
    # every rule is listed, the ones whose selector excludes this candidate as not applying (and never fired)
    assert list(rules) == [r.id for r in advisor.load_rules().rules]
    fine_tune_only = rules["fine-tuning-needs-examples"]
    assert fine_tune_only["applies"] is False and fine_tune_only["fired"] is False
    assert fine_tune_only["clauses"][0]["values"] == {"data.labeled_examples": 0}
    veto = rules["residency-keeps-data-off-apis"]
    assert veto["fired"] is False and veto["effect"] == "veto"
    assert veto["clauses"][0]["values"] == {"data.residency": "none"} and veto["clauses"][0]["result"] is False
    # fired rules in explain are exactly the decision's reasons and vetoes
    d = winner("customer-chatbot")
    ranked = next(x for x in d.ranking if x.id == "prompt@api")
    deciding = [k for k, v in rules.items() if v.get("decides")]
    assert len(deciding) == 1 and rules[deciding[0]]["effect"] == f"fit: {ranked.quality.fit}"
    assert {k for k, v in rules.items() if v["fired"] and v.get("decides", True)} == {
        x.rule for x in ranked.reasons if x.rule != "total-cost"} | {v.rule for v in ranked.vetoes}


def test_explain_markdown_and_unknown_candidate():
    path = str(ROOT / "examples" / "customer-chatbot.json")
    r = runner.invoke(app, ["explain", path])
    assert r.exit_code == 0 and r.stdout.count("\n## `") == 20
    r = runner.invoke(app, ["explain", path, "-c", "prompt@cloud"])
    assert r.exit_code == 1 and "prompt@cloud" in r.stderr and "Traceback" not in r.output
