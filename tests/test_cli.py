import json

import pytest
from conftest import EXAMPLES, ROOT
from typer.testing import CliRunner

from advisor import __version__
from advisor.cli import app

runner = CliRunner()
CHATBOT = str(ROOT / "examples" / "customer-chatbot.json")


def run(*args, input=None):
    return runner.invoke(app, list(args), input=input)


def assert_clean_error(result, *fragments, code=1):
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for f in fragments:
        assert f in result.stderr


def test_version():
    r = run("--version")
    assert r.exit_code == 0 and r.stdout.strip() == f"advisor {__version__}"


def test_costs_markdown_lists_every_candidate():
    r = run("costs", CHATBOT)
    assert r.exit_code == 0, r.output
    assert r.stdout.count("| `") == 20 and "`prompt+rag@api`" in r.stdout
    assert "None" not in r.stdout and "nan" not in r.stdout


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_costs_json_for_every_example(path):
    r = run("costs", str(path), "--format", "json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert len(out["candidates"]) == 20
    first = out["candidates"][0]
    assert set(first["cost"]) >= {"upfront_usd", "monthly_usd_first", "monthly_usd_last", "tco_usd",
                                  "cost_per_request_usd", "monthly_usd"}
    assert all(a["source"] and a["date"] for a in out["assumptions"])


def test_costs_from_stdin_matches_file():
    text = open(CHATBOT).read()
    assert run("costs", "-", "-f", "json", input=text).stdout == run("costs", CHATBOT, "-f", "json").stdout


def test_costs_out_writes_atomically(tmp_path):
    out = tmp_path / "costs.md"
    r = run("costs", CHATBOT, "--out", str(out))
    assert r.exit_code == 0 and out.read_text().startswith("# Costs")
    assert r.stdout == "" and not [p for p in tmp_path.iterdir() if p.name != "costs.md"]


def test_bad_input_leaves_no_output_file(tmp_path):
    out = tmp_path / "costs.md"
    r = run("costs", "-", "--out", str(out), input="{not json")
    assert_clean_error(r, "not valid JSON")
    assert not out.exists()


def test_bad_input_keeps_previous_output(tmp_path):
    out = tmp_path / "costs.md"
    out.write_text("previous")
    bad = tmp_path / "p.json"
    data = json.loads(open(CHATBOT).read())
    data["usage"]["requests_per_day"] = -1
    bad.write_text(json.dumps(data))
    assert_clean_error(run("costs", str(bad), "--out", str(out)), "usage.requests_per_day")
    assert out.read_text() == "previous"


@pytest.mark.parametrize("mutate,fragment", [
    (lambda d: d["data"].update(labled_examples=1), "data.labled_examples: unknown field"),
    (lambda d: d["team"].update(ml_engineers="two"), "team.ml_engineers"),
    (lambda d: d.update(assumptions={"gpu": "h1000"}), "unknown GPU 'h1000'"),
    (lambda d: d.update(assumptions={"api_model": "gpt-nope"}), "unknown API model 'gpt-nope'"),
])
def test_bad_profiles_exit_1_with_one_line(tmp_path, mutate, fragment):
    data = json.loads(open(CHATBOT).read())
    mutate(data)
    f = tmp_path / "p.json"
    f.write_text(json.dumps(data))
    r = run("costs", str(f))
    assert_clean_error(r, fragment)
    assert len(r.stderr.strip().splitlines()) == 1


def test_missing_file_and_usage_error(tmp_path):
    assert_clean_error(run("costs", str(tmp_path / "none.json")), "no such profile file")
    assert run("costs").exit_code == 2
    assert run("costs", CHATBOT, "--format", "yaml").exit_code == 2


def test_estimate_training_json_keys():
    r = run("estimate", "training", "--params", "7e9", "--tokens", "2e12", "--gpu", "a100-80gb", "--format", "json")
    out = json.loads(r.stdout)
    assert {"flops", "gpu_hours", "cost_usd"} <= set(out)
    assert out["flops"] == pytest.approx(8.4e22)


def test_estimate_serving_json_keys():
    r = run("estimate", "serving", "--params", "8e9", "--gpu", "h100", "--precision", "fp8", "--input-tokens",
            "500", "--output-tokens", "300", "--gpu-hourly-usd", "2", "-f", "json")
    out = json.loads(r.stdout)
    assert {"gpus_per_replica", "output_tokens_per_s", "usd_per_million_output_tokens"} <= set(out)
    assert out["gpu_hourly_usd"] == 2


def test_estimate_api_json_keys():
    r = run("estimate", "api", "--model", "gpt-4o", "--input-tokens", "1000000", "--output-tokens", "200000",
            "--cached-tokens", "0", "-f", "json")
    assert json.loads(r.stdout)["usd"] == pytest.approx(4.5)


@pytest.mark.parametrize("args,fragment", [
    (["training", "--params", "7e9", "--tokens", "2e12", "--gpu", "h1000"], "unknown GPU 'h1000'"),
    (["training", "--params", "-7e9", "--tokens", "2e12", "--gpu", "h100"], "--params: must be a number above 0"),
    (["training", "--params", "nan", "--tokens", "2e12", "--gpu", "h100"], "--params"),
    (["training", "--params", "7e9", "--tokens", "2e12", "--gpu", "h100", "--mfu", "2"], "--mfu"),
    (["serving", "--params", "8e9", "--gpu", "h100", "--precision", "fp4"], "--precision"),
    (["api", "--model", "nope-model", "--input-tokens", "1", "--output-tokens", "1"], "unknown API model"),
    (["api", "--model", "gpt-4o", "--input-tokens", "1", "--output-tokens", "1", "--cached-tokens", "5"],
     "--cached-tokens"),
])
def test_estimate_errors(args, fragment):
    assert_clean_error(run("estimate", *args), fragment)


def test_schema_prints_json_schema():
    out = json.loads(run("schema").stdout)
    assert out["title"] == "advisor project profile"
    assert "labeled_examples" in out["$defs"]["Data"]["properties"]


def test_example_lists_and_prints():
    listing = run("example").stdout
    assert "customer-chatbot" in listing and len(listing.strip().splitlines()) == len(EXAMPLES)
    assert json.loads(run("example", "content-moderation").stdout)["schema_version"] == 1
    assert_clean_error(run("example", "customer-chatbat"), "did you mean customer-chatbot")


def test_catalog_lists_sources():
    md = run("catalog").stdout
    assert "| `h100` |" in md and "Lambda" in md and "| `api_price_change_per_year` | 0.2 |" in md
    assert "Training MFU" in md and "| `gpt-4o` | 390 ms |" in md and "| `phone` |" in md
    data = json.loads(run("catalog", "-f", "json").stdout)
    assert data["gpus"]["a100-80gb"]["memory_gb"] == 80


def test_catalog_option_errors_cleanly(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("[gpus.h100]\nhourly_usd = -1\n")
    assert_clean_error(run("catalog", "--catalog", str(f)), "gpus.h100.hourly_usd")
    assert_clean_error(run("costs", CHATBOT, "--catalog", str(f)), str(f))
