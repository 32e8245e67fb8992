"""`advisor sensitivity`: ranges, tornado, flip points, Monte Carlo — and the vectorised engine behind them, which
must give every scenario the winner `advisor decide` gives."""

import datetime
import json

import numpy as np
import pytest
from conftest import ROOT, example_data
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import advisor
from advisor.cli import app
from advisor.engine import IDS
from advisor.errors import InputError
from advisor.prices import Prices, exact_usd
from advisor.robustness import KNOBS, SHARE_STAGES, current_value, draws, ranges, share_line, wilson

ADVISOR = advisor.Advisor()


def analyse(p, samples=None, seed=None):
    return ADVISOR.evaluate(p).sensitivity(samples=samples, seed=seed)


def scenarios(p, values, rules=None):
    """The profile's frame with `values` varied, ranked for every candidate and for the winners only."""
    ev = (advisor.Advisor(rules=rules) if rules else ADVISOR).evaluate(p)
    run = ev.advisor.run(ev.run.frame.vary(values))
    return run.outcome, run.winners

runner = CliRunner()
AT = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)


def profile(name, **changes):
    data = example_data(name)
    for path, value in changes.items():
        section, field = path.split(".")
        data.setdefault(section, {})[field] = value
    return advisor.load_profile(data)


def scalar_profile(p, values, j):
    """The plain profile of scenario j: every varied field set to its j-th value, as `advisor decide` reads it."""
    data = p.model_dump(mode="json")
    for path, arr in values.items():
        section, field = path.split(".")
        v = float(arr[j])
        data[section][field] = int(v) if v.is_integer() and isinstance(data[section].get(field), int) else v
    return advisor.load_profile(data)


# -- the vectorised engine equals the scalar engine --------------------------------------------------------------

@pytest.mark.parametrize("name", ["support-copilot", "customer-chatbot", "content-moderation", "frontier-lab",
                                  "offline-phone-summarizer", "workflow-agents", "underserved-language"])
def test_every_scenario_gets_the_winner_decide_gives(name):
    p = profile(name)
    rng = np.random.default_rng(7)
    n = 10
    values = {"usage.requests_per_day": np.round(p.usage.requests_per_day * np.exp(rng.uniform(-3, 3, n))),
              "usage.input_tokens": np.round(p.usage.input_tokens * np.exp(rng.uniform(-1, 1, n))),
              "usage.output_tokens": np.round(p.usage.output_tokens * np.exp(rng.uniform(-1, 1, n))),
              "usage.monthly_growth": rng.uniform(-0.1, 0.3, n),
              "assumptions.gpu_hourly_usd": rng.uniform(1, 8, n),
              "assumptions.api_price_change_per_year": rng.uniform(0.1, 0.6, n),
              "budget.monthly_usd": p.budget.monthly_usd * np.exp(rng.uniform(-2, 2, n)),
              "latency.p95_ms": np.round(p.latency.p95_ms * np.exp(rng.uniform(-1.5, 1.5, n)))}
    outcome, pruned = scenarios(p, values)
    assert (pruned.winner == outcome.winner).all()
    for j in range(n):
        d = advisor.decide(scalar_profile(p, values, j))
        assert outcome.winners()[j] == d.recommendation.id, (name, j)
        tco = {r.id: r.cost.tco_usd for r in d.ranking}
        for i, cid in enumerate(IDS):
            assert outcome.tco[i, j] == pytest.approx(tco[cid], rel=1e-12)


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "examples").glob("*.json")))
def test_deciding_for_winners_only_changes_no_winner(name):
    # draws over every default range: candidates vetoed by profile-only rules come and go by scenario
    p = profile(name)
    rng = np.random.default_rng(5)
    values = {r.input: r.low + (r.high - r.low) * rng.random(3000) for r in ranges(ADVISOR.evaluate(p))}
    full, pruned = scenarios(p, values)
    assert (pruned.winner == full.winner).all()
    priced = ~np.isnan(pruned.tco).all(axis=1)
    assert (pruned.tco[priced] == full.tco[priced]).all() and (pruned.eligible[priced] == full.eligible[priced]).all()
    assert not pruned.eligible[~priced].any() and not full.eligible[~priced].any()


def test_winners_only_prices_every_candidate_in_a_scenario_with_no_eligible_candidate():
    p = profile("customer-chatbot", **{"latency.deployment": "edge"})
    values = {"latency.p95_ms": np.array([1.0, 800.0, 5000.0])}  # 1 ms vetoes every candidate
    full, pruned = scenarios(p, values)
    assert not full.eligible[:, 0].any() and full.eligible[:, 1:].any(axis=0).all()
    # that scenario alone is priced in full (the order of the vetoed decides its closest path); the others pruned
    assert not np.isnan(pruned.tco[:, 0]).any() and np.isnan(pruned.tco[:, 1:]).any()
    assert (pruned.winner == full.winner).all() and (pruned.score[:, 0] == full.score[:, 0]).all()
    for j, _v in enumerate(values["latency.p95_ms"]):
        assert pruned.winners()[j] == advisor.decide(scalar_profile(p, values, j)).recommendation.id


@given(st.integers(1, 500_000), st.integers(1, 20_000), st.integers(0, 100), st.sampled_from(
    ["gpt-4.1-mini", "gpt-4.1", "gemini-2.5-pro", "claude-sonnet-4-5"]))
def test_api_prices_equal_genai_prices(inp, out, cached_pct, model):
    cached = inp * cached_pct // 100
    exact = float(exact_usd(model, inp, out, cached, AT))
    prices = Prices(AT)
    one = prices.call_usd(np.array(model, dtype=object), np.asarray(float(inp)), np.asarray(float(out)),
                          np.asarray(float(cached)))
    assert float(one) == pytest.approx(exact, rel=1e-12)
    many = prices.call_usd(np.array([model, "gpt-4o"], dtype=object), np.array([inp, inp], dtype=float),
                           np.array([out, out], dtype=float), np.array([cached, cached], dtype=float))
    assert many[0] == one  # one formula: bit-identical


# -- Monte Carlo ------------------------------------------------------------------------------------------------

def test_same_seed_same_result_and_shares_sum_to_one():
    p = profile("support-copilot")
    a = analyse(p, samples=3000, seed=11)
    b = analyse(p, samples=3000, seed=11)
    assert a.model_dump() == b.model_dump()
    assert sum(c.probability for c in a.monte_carlo) == pytest.approx(1, abs=1e-12)
    viable = {r.id for r in advisor.decide(p).ranking if r.eligible}
    assert {c.id for c in a.monte_carlo} == viable | {c.id for c in a.monte_carlo if c.probability > 0}
    c = analyse(p, samples=3000, seed=12)
    assert c.monte_carlo != a.monte_carlo  # a different seed draws different scenarios


def test_a_far_ahead_winner_wins_almost_every_scenario():
    s = analyse(profile("offline-phone-summarizer"), samples=5000)
    top = s.monte_carlo[0]
    assert top.id == s.winner == "prompt@on-device" and top.probability >= 0.95
    assert s.robustness.startswith("prompt@on-device wins in ")


def test_a_profile_on_a_break_even_splits():
    # centre a volume range on support-copilot's own flip point: both sides of it win a real share
    p = profile("support-copilot")
    flip = next(c for c in ADVISOR.evaluate(p).changes if c.input == "usage.requests_per_day")
    p = p.model_copy(update={"uncertainty": {"usage.requests_per_day": advisor.schema.Range(
        low=flip.value / 3, high=flip.value * 3, distribution="log-uniform")}})
    p = p.model_copy(update={"usage": p.usage.model_copy(update={"requests_per_day": flip.value})})
    shares = {c.id: c.probability for c in analyse(p, samples=4000).monte_carlo}
    base = advisor.decide(profile("support-copilot")).recommendation.id
    assert shares[base] > 0.15 and shares[flip.winner] > 0.15


def test_percentiles_are_ordered_and_the_robustness_line_matches():
    s = analyse(profile("saas-ai-features"), samples=2000)
    for c in s.monte_carlo:
        assert 0 <= c.tco_p10 <= c.tco_p50 <= c.tco_p90
    share = next(c.probability for c in s.monte_carlo if c.id == s.winner)
    assert s.robustness == f"{s.winner} wins in {share * 100:.0f} % of 2,000 scenarios"


# -- ranges ---------------------------------------------------------------------------------------------------------

def test_default_ranges_come_from_the_catalog_with_sources():
    p = profile("support-copilot")
    got = {r.input: r for r in ranges(ADVISOR.evaluate(p))}
    assert set(got) >= {"usage.requests_per_day", "usage.monthly_growth", "usage.input_tokens",
                        "usage.output_tokens", "assumptions.gpu_hourly_usd", "assumptions.api_price_factor",
                        "assumptions.api_price_change_per_year", "assumptions.gpu_price_change_per_year",
                        "data.labeled_examples", "assumptions.engineer_monthly_usd"}
    r = got["usage.requests_per_day"]
    assert (r.low, r.high, r.current) == pytest.approx((5000 * 0.33, 5000 * 3, 5000))
    trend = got["assumptions.api_price_change_per_year"]
    assert (trend.low, trend.high, trend.current) == (0.1, 0.5, 0.2)
    assert all(r.source for r in got.values())


def test_a_profile_range_replaces_the_default_and_an_empty_input_has_none():
    ev = ADVISOR.evaluate(profile("pre-pmf-startup"))
    assert current_value(ev, "data.labeled_examples") == 0
    assert "data.labeled_examples" not in {r.input for r in ranges(ev)}  # ×0.5–×2 of nothing is nothing
    data = example_data("pre-pmf-startup")
    data["uncertainty"] = {"usage.requests_per_day": {"low": 5000, "high": 50000}}
    r = {r.input: r for r in ranges(ADVISOR.evaluate(data))}["usage.requests_per_day"]
    assert (r.low, r.high, r.source) == (5000, 50000, "profile uncertainty")


@pytest.mark.parametrize("entry, message", [
    ({"usage.requests_per_dya": {"low": 1, "high": 2}}, "not a numeric input (did you mean usage.requests_per_day?)"),
    ({"usage.requests_per_day": {"low": 9, "high": 2}}, "low (9) is above high (2)"),
    ({"assumptions.mfu": {"low": 0.3, "high": 1.5}}, "assumptions.mfu: high 1.5"),
    ({"project.name": {"low": 1, "high": 2}}, "not a numeric input"),
    ({"usage.input_tokens": {"low": 0, "high": 10, "distribution": "log-uniform"}}, "low > 0"),
])
def test_bad_ranges_are_named(entry, message):
    data = example_data("customer-chatbot")
    data["uncertainty"] = entry
    with pytest.raises(InputError, match="uncertainty") as e:
        advisor.load_profile(data)
    assert message in str(e.value)


# -- tornado and flip points ---------------------------------------------------------------------------------------

def test_tornado_ends_give_the_winners_decide_gives():
    p = profile("support-copilot")
    s = analyse(p, samples=200)
    knobs = {k.input: k for k in KNOBS}
    flipping = [t.winner_low != s.winner or t.winner_high != s.winner for t in s.tornado]
    assert flipping == sorted(flipping, reverse=True)  # inputs that change the winner come first
    for t in s.tornado:
        for value, stated in ((t.low, t.winner_low), (t.high, t.winner_high)):
            if knobs[t.input].integer:
                assert value == int(value)  # counts get whole-number ranges
                value = int(value)
            assert advisor.decide(knobs[t.input].set(p, value)).recommendation.id == stated, t.input
    swings = [t.swing_usd for t in s.tornado if t.winner_low == t.winner_high == s.winner]
    assert swings == sorted(swings, reverse=True)


@pytest.mark.parametrize("name", ["customer-chatbot", "content-moderation", "support-copilot"])
def test_new_flip_points_hold_just_past_the_value(name):
    p = profile(name)
    base = advisor.decide(p).recommendation.id
    knobs = {k.input: k for k in KNOBS}
    seen = set()
    for c in ADVISOR.evaluate(p).changes:
        if c.input == "data.residency":
            continue
        seen.add(c.input)
        assert advisor.decide(knobs[c.input].set(p, c.value)).recommendation.id == c.winner != base, c
    if name != "content-moderation":  # 5M items a day on its own GPUs: no plausible single change flips it
        assert seen


# -- the command ----------------------------------------------------------------------------------------------------

def test_cli_markdown_and_json():
    path = str(ROOT / "examples" / "support-copilot.json")
    r = runner.invoke(app, ["sensitivity", path, "--samples", "500"])
    assert r.exit_code == 0, r.output
    for heading in ("## Uncertain inputs", "## Tornado", "## Flip points", "## Monte Carlo: 500 scenarios"):
        assert heading in r.stdout
    assert "wins in" in r.stdout and "None" not in r.stdout and "nan" not in r.stdout
    r = runner.invoke(app, ["sensitivity", path, "--samples", "500", "--seed", "3", "--format", "json"])
    data = json.loads(r.stdout)
    assert data["samples"] == 500 and data["seed"] == 3 and data["winner"] == "fine-tune+rag@api"


@pytest.mark.parametrize("args, message", [(["--samples", "0"], "--samples"),
                                           (["--samples", "1000000"], "--samples")])
def test_cli_rejects_bad_sample_counts(args, message):
    r = runner.invoke(app, ["sensitivity", str(ROOT / "examples" / "support-copilot.json"), *args])
    assert r.exit_code == 1 and message in r.stderr and "Traceback" not in r.output


def test_the_memo_states_the_decisions_win_share():
    r = runner.invoke(app, ["decide", str(ROOT / "examples" / "saas-ai-features.json"), "--date", "2026-11-23"])
    ev = ADVISOR.evaluate(profile("saas-ai-features"))
    line = share_line(ev.decision.recommendation.id, ev.decision.recommendation.win_share,
                      int(ev.run.share_samples[0]))
    assert int(ev.run.share_samples[0]) in SHARE_STAGES
    assert ev.robustness == line and f"({line} where every uncertain input is drawn from its range)" in r.stdout


def test_an_assumption_left_empty_reads_as_empty_where_a_scenario_keeps_it(tmp_path):
    # a house rule reading the profile's own GPU price: unset in the profile, so it must not fire unless a
    # scenario sets it — exactly as `advisor decide` sees the profile
    (tmp_path / "house.toml").write_text('''[[rule]]
id = "negotiated-gpu-price"
title = "A negotiated GPU price"
when.all = ["assumptions.gpu_hourly_usd > 0"]
points = 100
criterion = "cost"
why = "Our negotiated rate makes self-hosting attractive."
source = "House policy"
applies = { serving = ["self-host"] }
''')
    rules = advisor.load_rules(tmp_path)
    p = profile("customer-chatbot")
    assert p.assumptions.gpu_hourly_usd is None
    knobs = {k.input: k for k in KNOBS}
    # scenario 0 sets requests/day, scenario 1 the GPU price (left empty, as the profile leaves it, in scenario 0)
    _, got = scenarios(p, {"usage.requests_per_day": np.array([3000.0, p.usage.requests_per_day]),
                           "assumptions.gpu_hourly_usd": np.array([np.nan, 2.5])}, rules=rules)
    got = got.winners()
    assert got[0] == advisor.decide(knobs["usage.requests_per_day"].set(p, 3000.0), rules=rules).recommendation.id
    assert got[1] == advisor.decide(knobs["assumptions.gpu_hourly_usd"].set(p, 2.5), rules=rules).recommendation.id
    assert got[0] != got[1] and got[1].endswith("@self-host")


@pytest.mark.parametrize("name", ["saas-ai-features", "support-copilot", "content-moderation", "pre-pmf-startup"])
def test_the_win_share_stops_only_once_its_interval_cannot_change_the_confidence(name):
    ev = ADVISOR.evaluate(profile(name))
    run, share, samples = ev.run, float(ev.run.shares[0]), int(ev.run.share_samples[0])
    assert samples in SHARE_STAGES
    assert ev.decision.recommendation.win_share_draws == ev.summary.win_share_draws == samples  # stated with it
    low, high = wilson(share * samples, samples)
    if samples < SHARE_STAGES[-1]:  # stopped early: the confidence is the same anywhere in the interval
        stated = ev.decision.recommendation.confidence
        assert run.confidence_at(0, float(low)) == run.confidence_at(0, float(high)) == stated
    # the stages continue one sequence: the share is the full run's first `samples` draws
    won = draws(run, SHARE_STAGES[-1], 2026).winners.winner
    assert share == pytest.approx(float((won[:samples] == run.winners.winner[0]).mean()))
    # and judged on all the draws the confidence is the same
    assert run.confidence_at(0, float((won == run.winners.winner[0]).mean())) == ev.decision.recommendation.confidence


def test_the_wilson_interval_holds_the_share_and_narrows_with_draws():
    for wins, n in [(0, 50), (50, 50), (40, 50), (200, 250), (800, 1000)]:
        low, high = wilson(np.asarray(float(wins)), n)
        assert 0 <= low <= wins / n <= high <= 1
    assert np.diff(wilson(np.asarray(40.0), 50)) > np.diff(wilson(np.asarray(800.0), 1000))
