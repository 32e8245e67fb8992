import pytest

from advisor.errors import RuleError
from advisor.rules import load_rules


def test_shipped_rules_load_and_their_examples_pass():
    rs = load_rules()
    assert len(rs.rules) >= 30
    assert all(r.spec.source and r.spec.why for r in rs.rules)
    assert rs.examples_failures() == []


def _write(tmp_path, clause, extra=""):
    (tmp_path / "mine.toml").write_text(
        f'[[rule]]\nid = "my-rule"\ntitle = "t"\nwhen.all = [{clause!r}]\npoints = 5\ncriterion = "quality"\n'
        f'why = "w"\nsource = "s"\n{extra}')
    return tmp_path


def test_misspelt_field_names_file_rule_and_suggestion(tmp_path):
    with pytest.raises(RuleError) as info:
        load_rules(_write(tmp_path, "data.labled_examples >= 1000"))
    msg = str(info.value)
    assert "mine.toml" in msg and "my-rule" in msg and "data.labled_examples" in msg
    assert "did you mean data.labeled_examples" in msg


@pytest.mark.parametrize("clause,fragment", [
    ("__import__('os').system('true')", "not allowed"),
    ("data.need.__class__ == 'x'", "unknown field"),
    ("(lambda: True)()", "not allowed"),
    ("[x for x in 'ab'] == 'a'", "not allowed"),
    ("data.labeled_examples ** 99999999 > 1", "not allowed"),
    ("data.residency == 'on-prem'", "never 'on-prem'"),
    ("data.labeled_examples > 'many'", "cannot compare"),
    ("data.labeled_examples", "true or false"),
    ("data.labeled_examples >=", "not a valid condition"),
    ("1 < data.labeled_examples < 5", "one comparison at a time"),
])
def test_hostile_or_wrong_clauses_are_refused_at_load(tmp_path, clause, fragment):
    with pytest.raises(RuleError, match="my-rule") as info:
        load_rules(_write(tmp_path, clause))
    assert fragment in str(info.value)


def test_failing_rule_example_is_reported(tmp_path):
    rs = load_rules(_write(tmp_path, "data.labeled_examples >= 1000",
                           '[[rule.example]]\ngiven = { "data.labeled_examples" = 5 }\nfires = true\n'))
    assert any("my-rule: example 1 expected fires=True, got False" in f for f in rs.examples_failures())


# -- `advisor rules lint | test | list` ---------------------------------------------------------------------------

from typer.testing import CliRunner  # noqa: E402

from advisor.cli import app  # noqa: E402

cli = CliRunner()


def test_rules_lint_passes_on_the_shipped_rules():
    r = cli.invoke(app, ["rules", "lint"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith(f"ok: {len(load_rules().rules)} rules in ")


def test_rules_lint_names_file_rule_path_and_nearest_fields(tmp_path):
    r = cli.invoke(app, ["rules", "lint", str(_write(tmp_path, "budget.monthly_usdd > 5"))])
    assert r.exit_code == 1 and "Traceback" not in r.output
    line = r.stderr.strip()
    assert "\n" not in line
    assert "mine.toml" in line and "rule my-rule" in line and "budget.monthly_usdd" in line
    assert "did you mean budget.monthly_usd" in line


def test_rules_lint_refuses_duplicate_ids_and_bad_policy(tmp_path):
    (tmp_path / "dup.toml").write_text('[[rule]]\nid = "inference-first"\ntitle = "t"\n'
                                       'when.all = ["latency.offline"]\npoints = 1\ncriterion = "quality"\n'
                                       'why = "w"\nsource = "s"\n')
    r = cli.invoke(app, ["rules", "lint", str(tmp_path)])
    assert r.exit_code == 1 and "inference-first: id already used" in r.stderr
    r = cli.invoke(app, ["rules", "lint", "--alone", str(tmp_path)])
    assert r.exit_code == 0, r.output
    (tmp_path / "policy.toml").write_text("[ruleset]\ncost_weight = -3\n")
    r = cli.invoke(app, ["rules", "lint", "--alone", str(tmp_path)])
    assert r.exit_code == 1 and "cost_weight" in r.stderr and "greater than or equal to 0" in r.stderr


def test_rules_test_runs_examples_and_fails_with_exit_1(tmp_path):
    r = cli.invoke(app, ["rules", "test"])
    assert r.exit_code == 0 and r.stdout.startswith("ok: ")
    bad = _write(tmp_path, "data.labeled_examples >= 1000",
                 '[[rule.example]]\ngiven = { "data.labeled_examples" = 5 }\nfires = true\n')
    r = cli.invoke(app, ["rules", "test", str(bad)])
    assert r.exit_code == 1
    assert "FAIL mine.toml: rule my-rule: example 1 expected fires=True, got False" in r.stderr
    assert "1 rule example(s) failed" in r.stderr


def test_rules_list_shows_every_rule_with_its_source():
    r = cli.invoke(app, ["rules", "list", "--format", "json"])
    assert r.exit_code == 0, r.output
    import json
    listed = json.loads(r.stdout)
    assert [x["id"] for x in listed] == [x.id for x in load_rules().rules]
    assert all(x["source"] and x["why"] and x["file"].endswith(".toml") for x in listed)
    md = cli.invoke(app, ["rules", "list"]).stdout
    assert md.count("\n| `") == len(listed)


def test_rules_missing_directory_is_a_clear_error(tmp_path):
    r = cli.invoke(app, ["rules", "lint", str(tmp_path / "nope")])
    assert r.exit_code == 1 and "no such rules directory" in r.stderr
