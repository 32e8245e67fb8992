import pytest
from conftest import priced, profile_of

import advisor
from advisor.catalog import DERIVED_DEFAULTS, load_catalog
from advisor.errors import CatalogError
from advisor.schema import Assumptions


def test_every_default_has_a_source_and_date():
    cat = load_catalog()
    assert set(cat.defaults) == set(Assumptions.model_fields) - DERIVED_DEFAULTS
    for entry in [*cat.defaults.values(), *cat.gpus.values(), *cat.fine_tune_api.values()]:
        assert entry.source.strip() and entry.date[:2] == "20"


def test_design_gpu_ids_are_all_present():
    ids = {"h100", "h200", "a100-80gb", "a100-40gb", "l4", "l40s", "a10g", "b200", "mi300x"}
    assert ids <= set(load_catalog().gpus)


def test_catalog_file_overrides_a_price(tmp_path, chatbot):
    f = tmp_path / "cat.toml"
    f.write_text('[gpus.h100]\nhourly_usd = 1.0\n[defaults.engineer_monthly_usd]\nvalue = 10000\n'
                 'source = "our payroll"\ndate = "2026-10"\n')
    cat = load_catalog(f)
    assert cat.gpus["h100"].hourly_usd == 1.0 and cat.gpus["h100"].bf16_tflops == 989
    cheap = priced(profile_of(chatbot), cat)["prompt@self-host"].cost
    dear = priced(profile_of(chatbot))["prompt@self-host"].cost
    assert cheap.monthly_usd_first < dear.monthly_usd_first
    used = {u.name: u for u in advisor.Advisor(cat).evaluate(chatbot).assumptions}
    assert used["engineer_monthly_usd"].source == "our payroll"


def test_an_edited_catalog_file_is_read_again(tmp_path):
    f = tmp_path / "cat.toml"
    f.write_text("[gpus.h100]\nhourly_usd = 1.0\n")
    assert load_catalog(f).gpus["h100"].hourly_usd == 1.0
    f.write_text("[gpus.h100]\nhourly_usd = 12.5\n")
    assert load_catalog(f).gpus["h100"].hourly_usd == 12.5


@pytest.mark.parametrize("content,expected", [
    ("[gpus.h100]\nhourly_usd = -2.0\n", "gpus.h100.hourly_usd"),
    ("[defaults.mfuu]\nvalue = 0.5\nsource = 'x'\ndate = '2026-01'\n", "unknown default 'mfuu' (did you mean mfu?)"),
    ("[defaults.mfu]\nvalue = 7\n", "mfu"),
    ("[gpus.h100\n", "not valid TOML"),
    ("[defaults.gpu]\nvalue = 'tpu'\n", "defaults.gpu 'tpu' is not among the GPUs"),
])
def test_broken_catalog_files_name_the_entry(tmp_path, content, expected):
    f = tmp_path / "bad.toml"
    f.write_text(content)
    with pytest.raises(CatalogError) as info:
        load_catalog(f)
    assert str(f) in str(info.value) and expected in str(info.value)


def test_missing_catalog_file(tmp_path):
    with pytest.raises(CatalogError, match="no such catalog file"):
        load_catalog(tmp_path / "none.toml")


def test_profile_assumption_overrides_are_used_and_credited(chatbot):
    chatbot["assumptions"] = {"gpu": "a100-80gb", "gpu_hourly_usd": 1.2, "mfu": 0.5}
    ev = advisor.evaluate(chatbot)
    used = {u.name: u for u in ev.assumptions}
    assert used["mfu"].source.startswith("profile assumptions") and used["mfu"].value == 0.5
    assert used["gpu_hourly_usd"].value == 1.2
    chatbot["assumptions"] = {}
    plain = advisor.evaluate(chatbot).priced
    assert [p.cost.training_usd for p in ev.priced] != [p.cost.training_usd for p in plain]  # MFU and GPU price used
    assert "gpu.a100-80gb" in used and used["api_price.gpt-6-luna"].value.startswith("OpenAI gpt-6-luna")
