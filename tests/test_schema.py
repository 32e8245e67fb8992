import json

import pytest
from conftest import EXAMPLES, example_data

from advisor.errors import InputError
from advisor.io import load_profile
from advisor.schema import Profile, json_schema


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_validates(path):
    assert load_profile(path).schema_version == 1


def test_there_are_at_least_ten_examples():
    assert len(EXAMPLES) >= 10


def _error(mutate) -> str:
    data = example_data("customer-chatbot")
    mutate(data)
    with pytest.raises(InputError) as info:
        load_profile(data)
    return str(info.value)


def test_unknown_field_is_named_with_a_suggestion():
    msg = _error(lambda d: d["data"].update(labled_examples=5))
    assert "data.labled_examples: unknown field" in msg
    assert "did you mean labeled_examples" in msg


def test_unknown_top_level_section():
    assert "preferrences: unknown field (did you mean preferences?)" in _error(lambda d: d.update(preferrences={}))


@pytest.mark.parametrize("section,field,value,expected", [
    ("data", "labeled_examples", -5, "greater than or equal to 0"),
    ("data", "labeled_examples", "many", "valid integer"),
    ("data", "labeled_examples", 2.5, "valid integer"),
    ("data", "proprietary", "yes", "valid boolean"),
    ("usage", "requests_per_day", float("nan"), "requests_per_day"),
    ("usage", "monthly_growth", 6, "less than or equal to 5"),
    ("latency", "p95_ms", 0, "greater than 0"),
    ("data", "residency", "on-prem", "'none', 'region', 'on_prem' or 'air_gapped'"),
    ("preferences", "horizon_months", 121, "less than or equal to 120"),
])
def test_bad_values_name_the_field(section, field, value, expected):
    msg = _error(lambda d: d.setdefault(section, {}).update({field: value}))
    assert f"{section}.{field}" in msg
    assert expected in msg


def test_missing_required_field():
    assert "budget.monthly_usd: required field is missing" in _error(lambda d: d["budget"].pop("monthly_usd"))


def test_wrong_schema_version():
    assert "schema_version" in _error(lambda d: d.update(schema_version=2))


def test_large_counts_written_as_floats_are_accepted():
    data = example_data("customer-chatbot")
    data["data"]["unlabeled_tokens"] = 2e12
    assert load_profile(data).data.unlabeled_tokens == 2_000_000_000_000


def test_top_level_array_is_rejected(tmp_path):
    f = tmp_path / "p.json"
    f.write_text("[1, 2]")
    with pytest.raises(InputError, match="object"):
        load_profile(f)


@pytest.mark.parametrize("content,expected", [
    (b"", "empty profile"),
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b'{"schema_version": NaN}', "schema_version: Input should be 1"),
])
def test_unreadable_files(tmp_path, content, expected):
    f = tmp_path / "p.json"
    f.write_bytes(content)
    with pytest.raises(InputError, match=expected):
        load_profile(f)


def test_directory_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        load_profile(tmp_path)
    with pytest.raises(InputError, match="no such profile file"):
        load_profile(tmp_path / "nope.json")


def test_every_profile_field_is_described():
    schema = json_schema()

    def walk(node, path):
        if "$ref" in node:
            node = schema["$defs"][node["$ref"].split("/")[-1]]
        for name, prop in node.get("properties", {}).items():
            target = prop
            if "$ref" in prop:
                walk(prop, f"{path}{name}.")
                continue
            assert target.get("description"), f"{path}{name} has no description"
            assert "help" in target, f"{path}{name} has no help text"

    walk(schema, "")


def test_schema_covers_design_contract_fields():
    props = json_schema()["$defs"]
    assert set(props["Data"]["properties"]) == {"proprietary", "labeled_examples", "unlabeled_tokens",
                                                "knowledge_base_tokens", "freshness", "need", "residency"}
    assert set(Profile.model_fields) == {"schema_version", "project", "data", "quality", "latency", "usage", "team",
                                         "budget", "preferences", "assumptions", "uncertainty"}  # #6 ranges


def test_profile_json_round_trips():
    p = load_profile(example_data("support-copilot"))
    assert Profile.model_validate_json(p.model_dump_json()) == p
    assert json.loads(p.model_dump_json())["project"]["name"] == "Support copilot"
