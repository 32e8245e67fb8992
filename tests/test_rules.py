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
        f'[[rule]]\nid = "my-rule"\ntitle = "t"\nwhen.all = [{clause!r}]\npoints = 5\nwhy = "w"\nsource = "s"\n{extra}')
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
