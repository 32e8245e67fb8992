import json
import math
from datetime import UTC, datetime

import genai_prices
import pytest
from conftest import example_data, priced, profile_of
from hypothesis import given
from hypothesis import strategies as st

import advisor
from advisor.candidates import all_candidates, parse
from advisor.catalog import load_catalog
from advisor.errors import UnknownIdError

ADVISOR = advisor.Advisor()
estimate_training, estimate_serving, estimate_api = (ADVISOR.estimate_training, ADVISOR.estimate_serving,
                                                     ADVISOR.estimate_api)
price = priced


# -- the candidate space --------------------------------------------------------------------------------------------

def test_candidate_space_is_every_possible_combination():
    ids = {c.id for c in all_candidates()}
    assert len(ids) == 4 * 2 * 3 - 4
    assert {"prompt@api", "prompt+rag@api", "fine-tune@api", "fine-tune+rag@self-host",
            "continued-pretrain+rag@self-host", "pretrain@self-host", "pretrain+rag@on-device"} <= ids
    assert not {i for i in ids if i.startswith(("continued-pretrain", "pretrain")) and i.endswith("@api")}


def test_candidate_ids_parse_and_reject():
    assert parse("fine-tune+rag@self-host").rag
    with pytest.raises(UnknownIdError, match="continued-pretrain@api"):
        parse("continued-pretrain@api")
    with pytest.raises(UnknownIdError, match="did you mean prompt@api"):
        parse("promt@api")


# -- reported figures (../shared/reference/cost-facts.md) ----------------------------------------------------------

@pytest.mark.parametrize("params,tokens,gpu,reported", [
    (7e9, 2e12, "a100-80gb", 184_320),     # Llama 2 7B model card
    (13e9, 2e12, "a100-80gb", 368_640),    # Llama 2 13B
    (70e9, 2e12, "a100-80gb", 1_720_320),  # Llama 2 70B
    (6.7e9, 1e12, "a100-40gb", 100_000),   # MPT-7B: 440 GPUs x 9.5 days
])
def test_training_estimate_within_30_percent_of_reported_runs(params, tokens, gpu, reported):
    est = estimate_training(params, tokens, gpu)
    assert 0.7 <= est.gpu_hours / reported <= 1.3
    assert est.flops == pytest.approx(6 * params * tokens)
    assert est.cost_usd == pytest.approx(est.gpu_hours * load_catalog().gpus[gpu].hourly_usd)


@pytest.mark.parametrize("gpu,measured", [("h100", 3400.4), ("a100-80gb", 1517.54)])
def test_serving_estimate_within_half_to_double_of_vllm(gpu, measured):
    # LambdaLabsML/vllm-benchmark, vLLM 0.5.4, Llama-3.1-8B FP8 on one GPU.
    est = estimate_serving(8e9, gpu, "fp8")
    assert est.gpus_per_replica == 1
    assert 0.5 <= est.output_tokens_per_s / measured <= 2.0


def test_serving_cost_per_million_tokens_follows_the_formula():
    est = estimate_serving(8e9, "h100", "fp8", gpu_hourly_usd=2.0)
    assert est.usd_per_million_output_tokens == pytest.approx(2.0 / (est.output_tokens_per_s * 3600) * 1e6)


def test_bigger_models_need_more_gpus():
    assert estimate_serving(70e9, "h100", "bf16").gpus_per_replica >= 2
    assert estimate_serving(8e9, "h100", "int4").gpus_per_replica == 1


def test_api_estimate_equals_genai_prices():
    at = load_catalog().price_timestamp
    ours = estimate_api("gpt-4o", 1_000_000, 200_000, cached_tokens=100_000).usd
    theirs = genai_prices.calc_price(
        genai_prices.Usage(input_tokens=1_000_000, cache_read_tokens=100_000, output_tokens=200_000), "gpt-4o",
        genai_request_timestamp=at).total_price
    assert ours == pytest.approx(float(theirs), rel=1e-12)
    assert ours > 0


def test_unknown_ids_are_clear_errors():
    with pytest.raises(UnknownIdError, match="unknown API model 'no-such-model'"):
        estimate_api("no-such-model", 10, 10)
    with pytest.raises(UnknownIdError, match="unknown GPU 'h1000'"):
        estimate_training(7e9, 1e12, "h1000")


def test_unknown_api_model_in_profile_is_an_error(chatbot):
    chatbot["assumptions"] = {"api_model": "gpt-9-ultra"}
    with pytest.raises(UnknownIdError, match="gpt-9-ultra"):
        price(profile_of(chatbot))


def test_unknown_gpu_in_profile_is_an_error(chatbot):
    chatbot["assumptions"] = {"gpu": "tpu-v5"}
    with pytest.raises(UnknownIdError, match="unknown GPU 'tpu-v5'"):
        price(profile_of(chatbot))


# -- the candidate cost model ---------------------------------------------------------------------------------------

def test_api_monthly_cost_is_per_request_price_times_volume(chatbot):
    chatbot["data"].update(knowledge_base_tokens=0)
    chatbot["usage"].update(monthly_growth=0)
    p = profile_of(chatbot)
    priced = price(p)["prompt@api"]
    at = load_catalog().price_timestamp
    per_call = float(genai_prices.calc_price(genai_prices.Usage(input_tokens=800, output_tokens=250),
                                             "gpt-4.1-mini", genai_request_timestamp=at).total_price)
    people = 0.25 * 20_000
    assert priced.cost.monthly_usd_first == pytest.approx(people + 2000 * 365 / 12 * per_call)


def test_small_knowledge_base_sits_in_a_cached_prompt(chatbot):
    p = price(profile_of(chatbot))
    assert p["prompt@api"].facts.kb_in_prompt
    assert not p["prompt+rag@api"].facts.kb_in_prompt


def test_on_device_feasibility_depends_on_model_size(chatbot):
    assert price(profile_of(chatbot))["prompt@on-device"].facts.on_device_feasible
    chatbot["assumptions"] = {"on_device_model_params": 30e9}
    assert not price(profile_of(chatbot))["prompt@on-device"].facts.on_device_feasible


def test_self_hosting_breaks_even_at_high_volume():
    data = example_data("content-moderation")
    got = price(data)["fine-tune@self-host"].facts
    v = got.break_even_requests_per_day
    assert v is not None and v > 0 and got.api_twin == "fine-tune@api"
    assert got.break_even_month == 1  # 5M/day is already past it

    def monthly(volume):  # first month's cost of the self-hosted path and its API twin at `volume`
        data["usage"].update(requests_per_day=volume, monthly_growth=0)
        p = price(data)
        return p["fine-tune@self-host"].cost.monthly_usd_first, p["fine-tune@api"].cost.monthly_usd_first

    mine, twin = monthly(v * 1.0001)
    assert mine <= twin + 1e-6
    mine, twin = monthly(v * 0.98)
    assert mine > twin


def test_agent_calls_multiply_api_cost(chatbot):
    one = price(profile_of(chatbot))["prompt@api"].cost
    chatbot["usage"]["calls_per_request"] = 20
    many = price(profile_of(chatbot))["prompt@api"].cost
    people = 0.25 * 20_000
    assert (many.monthly_usd_first - people) == pytest.approx(20 * (one.monthly_usd_first - people))


def test_batch_mode_rents_gpus_only_for_the_work():
    p = price(profile_of(example_data("batch-classification")))
    assert p["fine-tune@self-host"].facts.replicas_first == 0
    assert p["fine-tune@self-host"].cost.monthly_usd_first > 0


# -- properties -----------------------------------------------------------------------------------------------------

profiles = st.builds(
    lambda base, rpd, growth, inp, out, calls, kb, months, examples: (base, {
        "usage": {"requests_per_day": rpd, "monthly_growth": growth, "input_tokens": inp, "output_tokens": out,
                  "calls_per_request": calls},
        "data": {"knowledge_base_tokens": kb, "labeled_examples": examples},
        "preferences": {"horizon_months": months}}),
    st.sampled_from(["customer-chatbot", "content-moderation", "batch-classification", "medical-diagnosis",
                     "offline-phone-summarizer", "frontier-lab"]),
    st.floats(0, 5e7), st.floats(-0.5, 1), st.integers(1, 20_000), st.integers(1, 4_000), st.floats(1, 100),
    st.integers(0, 10**9), st.integers(1, 120), st.integers(0, 10**6),
)


def _build(spec) -> dict:
    base, changes = spec
    data = example_data(base)
    for section, values in changes.items():
        data.setdefault(section, {}).update(values)
    return data


@given(profiles)
def test_costs_are_finite_non_negative_and_add_up(spec):
    for p in price(profile_of(_build(spec))).values():
        c = p.cost
        numbers = [c.upfront_usd, c.tco_usd, c.monthly_usd_first, c.monthly_usd_last, *c.monthly_usd]
        assert all(math.isfinite(x) and x >= 0 for x in numbers), p.id
        assert c.tco_usd == pytest.approx(c.upfront_usd + sum(c.monthly_usd))
        assert len(c.monthly_usd) == _build(spec).get("preferences", {}).get("horizon_months", 24)
        assert p.facts.latency_ms >= 0


@given(profiles, st.floats(1.0001, 100))
def test_monthly_cost_never_falls_as_volume_rises(spec, factor):
    low = _build(spec)
    high = json.loads(json.dumps(low))
    high["usage"]["requests_per_day"] = low["usage"]["requests_per_day"] * factor + 1
    a, b = price(profile_of(low)), price(profile_of(high))
    for cid in a:
        for m1, m2 in zip(a[cid].cost.monthly_usd, b[cid].cost.monthly_usd, strict=False):
            assert m2 >= m1 - 1e-9 * max(1.0, m1), cid


@given(profiles)
def test_same_input_same_output(spec):
    data = _build(spec)
    first = json.dumps({k: v.model_dump(mode="json") for k, v in price(profile_of(data)).items()})
    again = json.dumps({k: v.model_dump(mode="json") for k, v in price(profile_of(json.loads(json.dumps(data))
                                                                                  )).items()})
    assert first == again


def test_prices_are_looked_up_at_the_fixed_timestamp():
    assert load_catalog().price_timestamp == datetime(2026, 11, 1, tzinfo=UTC)
