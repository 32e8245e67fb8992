"""The interview, driven through its real questionary prompts (prompt_toolkit pipe input) and, once, as a process
in a pseudo-terminal."""

import json

import pytest
from conftest import ROOT
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from terminal import Terminal
from typer.testing import CliRunner

import advisor
from advisor.cli import app
from advisor.errors import InputError, Interrupted
from advisor.interview import conduct, load_answers, parse_number, questions

DOWN, UP, ENTER, SPACE, BACKSPACE, CTRL_C = "\x1b[B", "\x1b[A", "\r", " ", "\x7f", "\x03"

# One key sequence per section of a support-copilot interview; "don't know" is the last choice of an optional one.
PROJECT = "Support bot\r" "Answers tickets\r" "CTO, Head of Support\r" + DOWN + ENTER + ENTER + DOWN + DOWN + ENTER
DATA = ("y" + ENTER + SPACE + DOWN + DOWN + SPACE + ENTER  # proprietary; tick labeled examples and documents
        + "5k\r" "2M\r" + DOWN * 2 + ENTER + DOWN + DOWN + ENTER + DOWN + ENTER)
QUALITY = (DOWN + ENTER + DOWN + DOWN + ENTER + "y" + ENTER + "90%\r" + SPACE + DOWN + SPACE + ENTER
           + "0.71\r" + ENTER + "84%\r" + ENTER)  # two measured approaches, no model named
LATENCY = "5,000\r" + ENTER + ENTER + UP + ENTER  # p95; interactive; cloud; streaming: don't know
USAGE = "abc\r" + BACKSPACE * 3 + "5000\r" "1200\r" "300\r" + ENTER + "5%\r" + ENTER + ENTER
TEAM_BUDGET = "2\r" + DOWN + ENTER + "15k\r" "80,000\r" + ENTER + "0.4\r"
PREFERENCES = ENTER + ENTER + ENTER + "n" + ENTER
FINISH = ENTER

EXPECTED = {
    "schema_version": 1,
    "project": {"name": "Support bot", "description": "Answers tickets", "deciders": ["CTO", "Head of Support"],
                "use_case": "support_assistant", "modality": "text", "stage": "launched"},
    "data": {"proprietary": True, "labeled_examples": 5000, "unlabeled_tokens": 0, "knowledge_base_tokens": 2000000,
             "freshness": "weekly", "need": "both", "residency": "region"},
    "quality": {"accuracy": "high", "gap": "some", "language_supported": True, "target_score": 0.9,
                "evals": [{"approach": "prompt", "score": 0.71}, {"approach": "rag", "score": 0.84}]},
    "latency": {"p95_ms": 5000, "mode": "interactive", "deployment": "cloud", "offline": False, "streaming": None},
    "usage": {"requests_per_day": 5000.0, "input_tokens": 1200, "output_tokens": 300, "calls_per_request": 1,
              "monthly_growth": 0.05, "peak_to_average": 3, "cached_input_tokens": None},
    "team": {"ml_engineers": 2, "mlops": "basic"},
    "budget": {"monthly_usd": 15000.0, "upfront_usd": 80000.0, "includes_staff": False,
               "revenue_per_request_usd": 0.4},
    "preferences": {"horizon_months": 24, "time_to_market_weeks": None, "vendor_lock_in": "ok",
                    "model_is_product": False},
}


def drive(out, keys, **kw):
    with create_pipe_input() as inp:
        inp.send_text(keys)
        return conduct(out, input=inp, output=DummyOutput(), **kw)


def test_a_full_interview_writes_the_expected_profile(tmp_path, capsys):
    out = tmp_path / "profile.json"
    profile = drive(out, PROJECT + DATA + QUALITY + LATENCY + USAGE + TEAM_BUDGET + PREFERENCES + FINISH)
    saved = json.loads(out.read_text())
    assert saved == EXPECTED
    assert profile == advisor.load_profile(EXPECTED)
    err = capsys.readouterr().err
    assert "== Data ==" in err and "A support chatbot handles ~2,000 conversations/day" in err  # help from schema
    assert "Is model quality itself your differentiator?: no" in err  # the review summary


def test_an_invalid_number_is_re_asked_not_a_crash(tmp_path):
    # "abc" for requests per day is refused in place; the next answer is taken
    out = tmp_path / "p.json"
    drive(out, PROJECT + DATA + QUALITY + LATENCY + USAGE + TEAM_BUDGET + PREFERENCES + FINISH)
    assert json.loads(out.read_text())["usage"]["requests_per_day"] == 5000


def test_no_labeled_example_questions_without_data_and_no_scores_without_evals(tmp_path):
    out = tmp_path / "p.json"
    data = "n" + ENTER + ENTER + DOWN + DOWN + ENTER + DOWN + ENTER  # no data ticked: straight to need, residency
    quality = ENTER + ENTER + "y" + ENTER + ENTER + ENTER  # no target score, no evals ticked
    drive(out, PROJECT + data + quality + LATENCY + USAGE + TEAM_BUDGET + PREFERENCES + FINISH)
    saved = json.loads(out.read_text())
    assert saved["data"] == {"proprietary": False, "labeled_examples": 0, "unlabeled_tokens": 0,
                             "knowledge_base_tokens": 0, "freshness": "static", "need": "both", "residency": "region"}
    assert saved["quality"]["evals"] == [] and saved["quality"]["target_score"] is None


def test_ctrl_c_keeps_a_valid_partial_file_and_resume_gives_the_same_result(tmp_path):
    out = tmp_path / "profile.json"
    with pytest.raises(Interrupted) as info:
        drive(out, PROJECT + DATA + QUALITY + "5,0" + CTRL_C)
    assert info.value.exit_code == 130
    assert f"advisor interview --resume --out {out}" in str(info.value)
    partial = load_answers(out)  # valid: every saved answer passes its field's checks
    assert partial["quality"]["target_score"] == 0.9 and "latency" not in partial
    drive(out, LATENCY + USAGE + TEAM_BUDGET + PREFERENCES + FINISH, resume=True)
    assert json.loads(out.read_text()) == EXPECTED


def test_resume_in_the_middle_of_a_gated_group_skips_the_gate(tmp_path):
    out = tmp_path / "profile.json"
    with pytest.raises(Interrupted):
        drive(out, PROJECT + "y" + ENTER + SPACE + DOWN + DOWN + SPACE + ENTER + "5k\r" + CTRL_C)
    assert load_answers(out)["data"] == {"proprietary": True, "unlabeled_tokens": 0, "labeled_examples": 5000}
    rest = "2M\r" + DOWN + DOWN + ENTER + DOWN + DOWN + ENTER + DOWN + ENTER
    drive(out, rest + QUALITY + LATENCY + USAGE + TEAM_BUDGET + PREFERENCES + FINISH, resume=True)
    assert json.loads(out.read_text()) == EXPECTED


def test_answers_file_prefills_and_only_the_missing_are_asked(tmp_path):
    given = json.loads(json.dumps(EXPECTED))
    del given["usage"]["requests_per_day"]
    del given["team"]["ml_engineers"]
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(given))
    out = tmp_path / "profile.json"
    drive(out, "5000\r" "2\r" + ENTER + FINISH, answers=answers)  # and the optional deadline, not in the file
    assert json.loads(out.read_text()) == EXPECTED


def test_review_can_change_a_section(tmp_path):
    out = tmp_path / "p.json"
    change_team = (DOWN * 6 + ENTER + BACKSPACE + "4\r" + DOWN + ENTER + BACKSPACE * 5 + "20000\r" + ENTER + ENTER
                   + ENTER)
    drive(out, PROJECT + DATA + QUALITY + LATENCY + USAGE + TEAM_BUDGET + PREFERENCES + change_team + FINISH)
    saved = json.loads(out.read_text())
    assert saved["team"] == {"ml_engineers": 4, "mlops": "mature"}
    assert saved["budget"]["monthly_usd"] == 20000


def test_defaults_name_the_questions_without_one(tmp_path):
    out = tmp_path / "p.json"
    with pytest.raises(InputError) as info:
        conduct(out, use_defaults=True)
    msg = str(info.value)
    assert "no default for project.name, project.use_case" in msg and "usage.requests_per_day" in msg
    assert json.loads(out.read_text())["preferences"]["horizon_months"] == 24  # defaults taken so far are saved


def test_defaults_with_answers_runs_without_a_terminal(tmp_path):
    answers = tmp_path / "a.json"
    answers.write_text((ROOT / "examples" / "customer-chatbot.json").read_text())
    out = tmp_path / "profile.json"
    profile = conduct(out, answers=answers, use_defaults=True)
    assert profile == advisor.load_profile(ROOT / "examples" / "customer-chatbot.json")


@pytest.mark.parametrize("content,fragment", [
    ('{"usage": {"requests_per_dya": 5}}', "usage.requests_per_dya: unknown field (did you mean requests_per_day?)"),
    ('{"data": {"proprietary": "yes"}}', "data.proprietary: must be a valid boolean"),
    ('{"usage": {"input_tokens": 0}}', "usage.input_tokens: must be greater than or equal to 1"),
    ('{"usgae": {}}', "usgae: unknown section (did you mean usage?)"),
    ("[1, 2]", "not list"),
    ("{oops", "not valid JSON"),
])
def test_bad_answers_files_name_the_field(tmp_path, content, fragment):
    answers = tmp_path / "a.json"
    answers.write_text(content)
    with pytest.raises(InputError) as info:
        load_answers(answers)
    assert fragment in str(info.value)


@pytest.mark.parametrize("text,value", [("20k", 20000), ("1.5M", 1.5e6), ("2,000", 2000), ("10%", 0.1),
                                        ("2e12", 2e12), ("$3,000", 3000), ("1.1M", 1.1e6), ("3bn", 3e9),
                                        ("1_000", 1000), ("  42 ", 42), ("-0", 0)])
def test_numbers_people_type(text, value):
    got = parse_number(text)
    assert got == value and str(got) != "-0.0"  # a typed "-0" is saved as 0


@pytest.mark.parametrize("text", ["abc", "", "1.2.3", "k", "inf", "nan", "1e400", "9" * 5000, "0x10", "%"])
def test_not_numbers(text):
    with pytest.raises(ValueError):
        parse_number(text)


def test_questions_come_from_the_schema():
    from advisor.schema import Profile

    qs = {q.path: q for q in questions()}
    usage = Profile.model_fields["usage"].annotation.model_fields
    assert qs["usage.requests_per_day"].text == usage["requests_per_day"].description
    assert qs["data.residency"].kind == "select" and qs["data.residency"].choices == (
        "none", "region", "on_prem", "air_gapped")
    assert qs["data.proprietary"].kind == "confirm" and qs["latency.p95_ms"].kind == "integer"
    assert not any(p.startswith("assumptions.") for p in qs)


# -- the command line ---------------------------------------------------------------------------------------------

def test_without_a_terminal_it_points_to_decide_and_exits_2(tmp_path):
    r = CliRunner().invoke(app, ["interview", "--out", str(tmp_path / "p.json")], input="")
    assert r.exit_code == 2 and "advisor decide" in r.stderr and "Traceback" not in r.output
    assert not (tmp_path / "p.json").exists()


def test_an_existing_answers_file_is_never_overwritten(tmp_path):
    out = tmp_path / "p.json"
    out.write_text('{"keep": "me"}')
    r = CliRunner().invoke(app, ["interview", "--out", str(out), "--defaults"])
    assert r.exit_code == 1 and "already exists" in r.stderr and out.read_text() == '{"keep": "me"}'


def test_cli_defaults_run_writes_profile_and_memo_and_prints_the_decision(tmp_path):
    out = tmp_path / "p.json"
    r = CliRunner().invoke(app, ["interview", "--out", str(out), "--defaults", "--answers",
                                 str(ROOT / "examples" / "customer-chatbot.json")])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("prompt@api (confidence high) — Prompt a general model on a hosted API: $")
    assert r.stdout.rstrip().endswith(f"Memo: {tmp_path / 'memo.md'}")
    assert (tmp_path / "memo.md").read_text().startswith("---\nstatus: proposed")


def test_the_interview_in_a_real_pseudo_terminal(tmp_path):
    """`advisor interview` as a process in a pty: prefilled answers, a few questions, the review, the memo. A yes/no
    answer needs Enter: `y` alone answers nothing, and the Enter after it does not answer the next question."""
    given = json.loads(json.dumps(EXPECTED))
    del given["data"]["proprietary"]
    del given["data"]["need"]
    del given["usage"]["requests_per_day"]
    del given["latency"]["p95_ms"]
    del given["budget"]["monthly_usd"]
    given["preferences"]["time_to_market_weeks"] = None
    (tmp_path / "answers.json").write_text(json.dumps(given))
    term = Terminal(["interview", "--answers", "answers.json", "--out", "profile.json"], tmp_path)
    try:
        term.expect("competitors do not?")
        term.send("y")
        assert b"general model lack" not in term.drain(1.0)  # `y` alone answers nothing yet
        term.send(ENTER)
        term.expect("What does a general model lack?")
        assert b"knowledge: facts" not in term.drain(1.0).split(b"lack?")[0]  # asked, not answered by that Enter
        for expect, keys in [("lack?", DOWN + DOWN + ENTER), ("95th percentile", "5000\r"),
                             ("requests per day", "5k\r"), ("Monthly budget", "15,000\r"),
                             ("Review your answers", ENTER)]:
            if expect != "lack?":
                term.expect(expect)
            term.send(keys)
        assert term.finish() == 0, term.seen[-600:]
    finally:
        term.close()
    assert json.loads((tmp_path / "profile.json").read_text()) == EXPECTED
    assert "**Decision:**" in (tmp_path / "memo.md").read_text()


def test_an_answers_file_keeps_its_uncertainty_ranges(tmp_path):
    answers = json.loads((ROOT / "examples" / "customer-chatbot.json").read_text())
    answers["uncertainty"] = {"usage.requests_per_day": {"low": 1000, "high": 9000}}
    (tmp_path / "a.json").write_text(json.dumps(answers))
    out = tmp_path / "p.json"
    r = CliRunner().invoke(app, ["interview", "--out", str(out), "--defaults", "--answers", str(tmp_path / "a.json")])
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text())["uncertainty"] == answers["uncertainty"]  # nothing given is lost
    answers["uncertainty"] = {"usage.requests_per_dya": {"low": 1, "high": 2}}
    (tmp_path / "b.json").write_text(json.dumps(answers))
    with pytest.raises(InputError, match=r"b.json: uncertainty: 'usage.requests_per_dya' is not a numeric input "
                                         r"\(did you mean usage.requests_per_day\?\)"):
        load_answers(tmp_path / "b.json")
