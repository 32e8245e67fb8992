"""Property-based and fuzz tests: profiles generated from the schema drive the whole engine; arbitrary bytes and
JSON hit every loader. Anything a user or script can hand advisor ends in a result or one AdvisorError."""

import json
import math
import os
import tempfile
from pathlib import Path

from conftest import LONG, ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import json_values, profiles
from test_memo import check_markdown

import advisor
from advisor.batch import decide_lines
from advisor.catalog import load_catalog
from advisor.decision import Decision
from advisor.errors import CatalogError, InputError, RuleError, TemplateError
from advisor.interview import load_answers
from advisor.rules import load_rules

ADVISOR = advisor.Advisor()
SOME_EVALUATION = ADVISOR.evaluate(ROOT / "examples" / "customer-chatbot.json")


_INPUTS = tempfile.TemporaryDirectory(prefix="advisor-fuzz-")  # removed when the test run ends


def _file(data: bytes, suffix: str = ".json") -> Path:
    """A new file per example: loaders cache by path and modification time, which a rewrite may not change."""
    fd, name = tempfile.mkstemp(suffix=suffix, dir=_INPUTS.name)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return Path(name)


@settings(max_examples=100 if LONG else 8)  # every decision runs its own Monte Carlo win share
@given(profiles())
def test_generated_profiles_decide_end_to_end(data):
    d = advisor.decide(data)
    text = d.model_dump_json()
    json.loads(text)  # plain JSON: no NaN or Infinity
    assert Decision.model_validate_json(text) == d  # valid against the decision schema, and round-trips
    assert advisor.decide(data).model_dump() == d.model_dump()  # same input, same output
    for r in d.ranking:
        c = r.cost
        for v in (c.upfront_usd, c.monthly_usd_first, c.monthly_usd_last, c.tco_usd, c.people_monthly_usd,
                  c.training_usd, *c.monthly_usd):
            assert math.isfinite(v) and v >= 0
        assert math.isfinite(r.score)
    s, top = advisor.summarize(data), d.ranking[0]
    runner = next((r.id for r in d.ranking[1:] if r.eligible), None)
    assert (s.recommendation, s.score, s.confidence, s.margin, s.runner_up, s.tco_usd, s.eligible) == (
        top.id, top.score, d.recommendation.confidence, d.recommendation.margin, runner, top.cost.tco_usd,
        sum(r.eligible for r in d.ranking))


@settings(max_examples=25 if LONG else 3)  # a memo runs its Monte Carlo draws and flip searches
@given(profiles())
def test_generated_profiles_render_a_clean_memo(data):
    # free text from the profile is covered by the escaping tests; here the generated numbers and choices
    data["project"].update(name="Fuzzed project", description=None, deciders=[])
    text = advisor.memo(data, date="2026-01-01")
    assert check_markdown(text) == []  # no None/nan/inf, template debris, empty sections or ragged tables


@given(st.binary(max_size=2000))
def test_profile_loader_takes_any_bytes(data):
    try:
        advisor.load_profile(_file(data))
    except InputError as e:
        assert str(e).startswith(str(Path(tempfile.gettempdir())))  # names the file


@given(json_values())
def test_profile_loader_takes_any_json(value):
    for source in (_file(json.dumps(value).encode()), value):
        try:
            advisor.load_profile(source)
        except InputError as e:
            assert str(e) and "\n" not in str(e)


@given(st.binary(max_size=400))
def test_batch_lines_take_any_bytes(data):
    (record,) = decide_lines(ADVISOR, [(7, data)])
    assert record["line"] == 7 and isinstance(record["ok"], bool)
    assert record["ok"] or record["error"].startswith("line 7: ")


@given(st.text(max_size=400))
def test_rule_loader_takes_any_text(text):
    path = _file(text.encode("utf-8", "surrogatepass"), ".toml")
    try:
        load_rules(path, include_shipped=False)
    except RuleError as e:
        assert str(path) in str(e) or "no rules found" in str(e)


@given(st.text(max_size=400))
def test_catalog_loader_takes_any_text(text):
    path = _file(text.encode("utf-8", "surrogatepass"), ".toml")
    try:
        load_catalog(path)
    except CatalogError as e:
        assert str(path) in str(e)


@given(st.binary(max_size=400) | json_values().map(lambda v: json.dumps(v).encode()))
def test_answers_loader_takes_anything(data):
    try:
        load_answers(_file(data))
    except InputError as e:
        assert str(e)


@given(st.text(max_size=300))
def test_templates_take_any_text(text):
    path = _file(text.encode("utf-8", "surrogatepass"), ".j2")
    try:
        assert isinstance(SOME_EVALUATION.memo(template=path, date="2026-01-01"), str)
    except (TemplateError, InputError) as e:
        assert str(e)
