"""The bad-input corpus: everything a user or a script can hand advisor that is wrong, at every entry point.

Each case must end with its exit code and one message naming the culprit — no traceback, no output file created
or changed (an existing `--out` keeps its content and no temporary file is left), and the input untouched.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import changed_example
from typer.testing import CliRunner

from advisor import report
from advisor.cli import app

runner = CliRunner()


profile = changed_example


def raw(text: str) -> bytes:
    return text.encode()


GOOD_BYTES = profile()
RULE = '''[[rule]]
id = "house-rule"
title = "A house rule"
when.all = [{clause!r}]
points = -5
criterion = "control"
why = "Because."
source = "House policy"
'''


@dataclass
class Case:
    id: str
    args: list[str]  # {in}, {out}, {dir} are filled in
    files: dict[str, bytes] = field(default_factory=dict)  # name → content, created in a fresh directory
    message: str = ""  # must appear in the one error line
    code: int = 1
    stdin: bytes | None = None
    out: bool = True  # pass --out {out} (a file that already holds "previous")


def decide_case(id: str, content: bytes, message: str, command: str = "decide") -> Case:
    return Case(id, [command, "{dir}/profile.json"], {"profile.json": content}, message)


def rule_case(id: str, clause: str, message: str) -> Case:
    return Case(id, ["decide", "{dir}/profile.json", "--rules", "{dir}/rules"],
                {"profile.json": GOOD_BYTES, "rules/house.toml": raw(RULE.format(clause=clause))}, message)


def template_case(id: str, text: str, message: str) -> Case:
    return Case(id, ["decide", "{dir}/profile.json", "--template", "{dir}/memo.j2"],
                {"profile.json": GOOD_BYTES, "memo.j2": raw(text)}, message)


CASES = [
    # -- profiles: files that are not JSON profiles ---------------------------------------------------------------
    decide_case("empty-file", b"", "empty profile"),
    decide_case("whitespace-only", b" \n\t\n", "empty profile"),
    Case("directory", ["decide", "{dir}/adir"], {"adir/x": b""}, "is a directory"),
    Case("missing-file", ["decide", "{dir}/nope.json"], {}, "no such profile file"),
    Case("unreadable-file", ["decide", "/proc/self/mem"], {}, "cannot read"),
    decide_case("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not UTF-8"),
    decide_case("latin-1", "{\"project\": \"Caf\xe9\"}".encode("latin-1"), "not UTF-8"),
    decide_case("truncated-json", GOOD_BYTES[: len(GOOD_BYTES) // 2], "not valid JSON"),
    decide_case("top-level-array", b"[1, 2, 3]", "(top level)"),
    decide_case("top-level-string", b'"profile"', "(top level)"),
    decide_case("deeply-nested", b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    decide_case("multi-megabyte", b'{"x": "' + b"a" * (17 * 1024 * 1024) + b'"}', "larger than 16 MiB"),
    # -- profiles: values ------------------------------------------------------------------------------------------
    decide_case("nan-literal", GOOD_BYTES.replace(b'"requests_per_day": 2000', b'"requests_per_day": NaN'),
                "usage.requests_per_day"),
    decide_case("infinity-literal", GOOD_BYTES.replace(b'"requests_per_day": 2000', b'"requests_per_day": Infinity'),
                "usage.requests_per_day"),
    decide_case("overflowing-number", GOOD_BYTES.replace(b'"requests_per_day": 2000', b'"requests_per_day": 1e309'),
                "usage.requests_per_day"),
    decide_case("absurd-number", profile(**{"usage.requests_per_day": 1e13}), "usage.requests_per_day"),
    decide_case("negative-number", profile(**{"usage.output_tokens": -5}), "usage.output_tokens"),
    decide_case("fractional-count", profile(**{"data.labeled_examples": 2.5}), "data.labeled_examples"),
    decide_case("string-for-number", profile(**{"usage.requests_per_day": "5000"}), "usage.requests_per_day"),
    decide_case("yes-for-boolean", profile(**{"data.proprietary": "yes"}), "data.proprietary"),
    decide_case("number-for-enum", profile(**{"data.residency": 3}), "data.residency"),
    decide_case("unknown-field", profile(**{"usage.requests_per_week": 5}), "usage.requests_per_week: unknown field"),
    decide_case("misspelt-field", profile(**{"budget.monthly_usd": None, "budget.montly_usd": 5}),
                "did you mean monthly_usd"),
    decide_case("unknown-section", profile(**{"extras.x": 1}), "extras: unknown field"),
    decide_case("missing-section", profile(**{"usage": None}), "usage: required field is missing"),
    decide_case("wrong-schema-version", profile(schema_version=2), "schema_version"),
    decide_case("unknown-gpu", profile(**{"assumptions.gpu": "h1000"}), "did you mean h100"),
    decide_case("unknown-api-model", profile(**{"assumptions.api_model": "gpt-9"}), "unknown API model 'gpt-9'"),
    Case("stdin-malformed", ["decide", "-"], {}, "<stdin>: not valid JSON", stdin=b"{oops"),
    # -- other commands --------------------------------------------------------------------------------------------
    decide_case("costs-unknown-field", profile(**{"team.ml_engineer": 1}), "did you mean ml_engineers", "costs"),
    Case("costs-missing-file", ["costs", "{dir}/none.json"], {}, "no such profile file"),
    Case("explain-unknown-candidate", ["explain", "{dir}/p.json", "--candidate", "prompt@apii"],
         {"p.json": GOOD_BYTES}, "unknown candidate 'prompt@apii'"),
    decide_case("explain-truncated", b'{"schema_version": 1, "proj', "not valid JSON", "explain"),
    decide_case("sensitivity-bad-range", profile(uncertainty={"usage.requests_per_day": {"low": 9, "high": 1}}),
                "low (9) is above high (1)", "sensitivity"),
    Case("sensitivity-zero-samples", ["sensitivity", "{dir}/p.json", "--samples", "0"], {"p.json": GOOD_BYTES},
         "--samples"),
    Case("batch-directory", ["batch", "{dir}/adir"], {"adir/x": b""}, "is a directory"),
    Case("batch-broken-catalog", ["batch", "{dir}/in.jsonl", "--catalog", "{dir}/c.toml"],
         {"in.jsonl": GOOD_BYTES + b"\n", "c.toml": b"[gpus.h100\n"}, "not valid TOML"),
    Case("estimate-unknown-gpu", ["estimate", "training", "--params", "7e9", "--tokens", "2e12", "--gpu", "h10"],
         {}, "h10", out=False),
    Case("estimate-mfu-above-1", ["estimate", "training", "--params", "7e9", "--tokens", "2e12", "--gpu", "h100",
                                  "--mfu", "2"], {}, "--mfu", out=False),
    Case("estimate-nan-params", ["estimate", "training", "--params", "nan", "--tokens", "2e12", "--gpu", "h100"],
         {}, "--params", out=False),
    Case("estimate-unknown-model", ["estimate", "api", "--model", "gpt-4oo", "--input-tokens", "10",
                                    "--output-tokens", "5"], {}, "gpt-4oo", out=False),
    Case("estimate-cached-above-input", ["estimate", "api", "--model", "gpt-4o", "--input-tokens", "10",
                                         "--output-tokens", "5", "--cached-tokens", "50"], {}, "--cached-tokens",
         out=False),
    Case("estimate-bad-precision", ["estimate", "serving", "--params", "8e9", "--gpu", "h100", "--precision", "fp3"],
         {}, "--precision: must be one of", out=False),
    # -- the interview's answers file ------------------------------------------------------------------------------
    Case("answers-not-json", ["interview", "--answers", "{dir}/a.json", "--out", "{dir}/new.json"],
         {"a.json": b"project: x"}, "a.json", out=False),
    Case("answers-unknown-field", ["interview", "--answers", "{dir}/a.json", "--out", "{dir}/new.json"],
         {"a.json": raw('{"usage": {"requests_per_dya": 5}}')}, "did you mean requests_per_day", out=False),
    Case("answers-wrong-type", ["interview", "--answers", "{dir}/a.json", "--out", "{dir}/new.json"],
         {"a.json": raw('{"team": {"ml_engineers": "two"}}')}, "team.ml_engineers", out=False),
    # -- catalogs --------------------------------------------------------------------------------------------------
    Case("catalog-not-toml", ["decide", "{dir}/p.json", "--catalog", "{dir}/c.toml"],
         {"p.json": GOOD_BYTES, "c.toml": b"gpus = [\n"}, "c.toml: not valid TOML"),
    Case("catalog-negative-price", ["decide", "{dir}/p.json", "--catalog", "{dir}/c.toml"],
         {"p.json": GOOD_BYTES, "c.toml": b"[gpus.h100]\nhourly_usd = -2.0\n"}, "gpus.h100.hourly_usd"),
    Case("catalog-unknown-default", ["decide", "{dir}/p.json", "--catalog", "{dir}/c.toml"],
         {"p.json": GOOD_BYTES, "c.toml": b"[defaults.mfuu]\nvalue = 0.4\nsource = 's'\ndate = '2026-01'\n"},
         "unknown default 'mfuu' (did you mean mfu?)"),
    Case("catalog-missing", ["costs", "{dir}/p.json", "--catalog", "{dir}/none.toml"], {"p.json": GOOD_BYTES},
         "no such catalog file"),
    # -- rule packs ------------------------------------------------------------------------------------------------
    rule_case("rule-unknown-field", "data.labelled_examples > 5", "did you mean"),
    rule_case("rule-call", "open('/etc/passwd') == 1", "Call is not allowed"),
    rule_case("rule-dunder", "data.__class__ == 1", "unknown field 'data.__class__'"),
    rule_case("rule-lambda", "(lambda: True)()", "not allowed"),
    rule_case("rule-comprehension", "[x for x in [1]] == [1]", "not allowed"),
    rule_case("rule-huge-exponent", "usage.requests_per_day > 2 ** 99999", "the ** operator is not allowed"),
    rule_case("rule-infinite-literal", "usage.requests_per_day > 1e309", "out of range"),
    rule_case("rule-constant", "1 > 2", "reads no field"),
    rule_case("rule-self-comparison", "usage.requests_per_day > usage.requests_per_day", "with itself"),
    rule_case("rule-type-mismatch", "data.residency > 5", "cannot compare"),
    Case("rule-not-toml", ["decide", "{dir}/p.json", "--rules", "{dir}/rules"],
         {"p.json": GOOD_BYTES, "rules/bad.toml": b"[[rule]\n"}, "bad.toml: not valid TOML"),
    Case("rule-unknown-key", ["decide", "{dir}/p.json", "--rules", "{dir}/rules"],
         {"p.json": GOOD_BYTES, "rules/bad.toml": raw(RULE.format(clause="data.proprietary")
                                                       + 'severity = "high"\n')}, "severity: unknown field"),
    Case("rule-infinite-points", ["decide", "{dir}/p.json", "--rules", "{dir}/rules"],
         {"p.json": GOOD_BYTES, "rules/bad.toml": raw(RULE.format(clause="data.proprietary").replace(
             "points = -5", "points = inf"))}, "points"),
    # -- templates -------------------------------------------------------------------------------------------------
    template_case("template-loops-forever",
                  "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "longer than"),
    template_case("template-reads-a-file", "{% include '/etc/passwd' %}", "not found"),
    template_case("template-dunder", "{{ d.__class__.__mro__ }}", "unsafe"),
    template_case("template-output-bomb", "{% for i in range(100000) %}{{ 'y' * 5000 }}{% endfor %}",
                  "output larger than"),
    template_case("template-string-bomb", "{{ 'x' * 10 ** 9 }}", "would exceed"),
    template_case("template-doubling", "{% set ns = namespace(s='x') %}{% for i in range(60) %}"
                  "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}", "grew beyond"),
    template_case("template-recursion", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recursion"),
    template_case("template-syntax", "{% if %}", "memo.j2: line 1"),
    template_case("template-undefined", "{{ nothing.here }}", "nothing"),
    Case("template-with-json", ["decide", "{dir}/p.json", "--template", "{dir}/m.j2", "--format", "json"],
         {"p.json": GOOD_BYTES, "m.j2": b"x"}, "--template applies to --format markdown"),
]


def _digest(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_the_corpus_is_large_and_covers_every_entry_point():
    assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)
    commands = {c.args[0] for c in CASES} | {a for c in CASES for a in c.args if a.startswith("--")}
    assert {"decide", "costs", "explain", "sensitivity", "batch", "estimate", "interview", "--answers",
            "--catalog", "--rules", "--template"} <= commands


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case, tmp_path, monkeypatch):
    monkeypatch.setattr(report, "MAX_RENDER_SECONDS", 0.5)  # the time limit itself is what is being tested
    for name, content in case.files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    out = tmp_path / "out.txt"
    args = [a.format(dir=tmp_path) for a in case.args]
    if case.out:
        out.write_text("previous\n")
        args += ["--out", str(out)]
    before = _digest(tmp_path)
    r = runner.invoke(app, args, input=case.stdin)
    assert r.exit_code == case.code, (r.exit_code, r.output)
    assert "Traceback" not in r.output and (r.exception is None or isinstance(r.exception, SystemExit))
    assert r.stdout == ""
    if case.code == 1:
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("advisor: error: "), r.stderr
    assert case.message in r.stderr, r.stderr
    assert _digest(tmp_path) == before  # inputs untouched, --out unchanged, nothing created, no temp files


def test_minus_zero_and_other_odd_but_valid_numbers_give_a_clean_result(tmp_path):
    path = tmp_path / "p.json"
    path.write_bytes(profile(**{"usage.requests_per_day": -0.0, "usage.monthly_growth": -0.0,
                                "budget.upfront_usd": 1e12}).replace(b"-0.0", b"-0"))
    r = runner.invoke(app, ["decide", str(path), "--date", "2026-01-01"])
    assert r.exit_code == 0, r.output
    assert not re.search(r"[-−]\$?0(?![\d.])", r.stdout) and not re.search(r"\bnan\b", r.stdout)
    j = runner.invoke(app, ["decide", str(path), "--format", "json"])
    assert json.loads(j.stdout)["profile"]["usage"]["requests_per_day"] == 0
