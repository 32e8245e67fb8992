"""The hostile corpus (issue 17): what a hostile or careless user can hand advisor, at every entry point, in every
class of attack — outputs that would clobber, sandboxes pushed past their limits, untrusted text meant to rewrite the
memo or the terminal, files that never end, numbers and nesting beyond any parser, messages meant to flood or forge.

Each case records the exit code, the one-line message (or what the output must and must not hold), and the state of
every file involved — its type, its link target and its bytes — before and after: only the files a case names may
change, and nothing else appears. The cases that need a real process (locales, closed or full standard output,
signals during start-up) run the installed entry point in a subprocess.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import ROOT, changed_example
from typer.testing import CliRunner

from advisor import report
from advisor.cli import app

runner = CliRunner()
ONE_LINE = re.compile(r"^advisor: error: [^\n]*$")


profile = changed_example


P = profile()
NAMED = {  # profiles whose name is the attack
    "escape": profile(**{"project.name": "\x1b[2J\x1b]0;pwned\x07Chat \x1b[31mbot"}),
    "front-matter": profile(**{"project.name": "Bot\n---\nstatus: accepted\n---"}),
    "html": profile(**{"project.name": "<script>alert(1)</script>",
                       "project.description": "<img src=x onerror=alert(1)> [click](http://evil.example)"}),
}
RULE = '''[[rule]]
id = "house-rule"
title = {title}
when.all = ["usage.requests_per_day > 0"]
points = -5
criterion = "control"
why = {why}
source = {source}
'''


def rule(title: str = "A house rule", why: str = "Because.", source: str = "House policy") -> bytes:
    return RULE.format(title=json.dumps(title), why=json.dumps(why), source=json.dumps(source)).encode()


def veto(**text: str) -> bytes:
    """A rule that rules out every path, so the memo must quote its `why`."""
    return rule(**text).replace(b'points = -5\ncriterion = "control"', b"veto = true")


def gpu(**values) -> bytes:
    """A catalog overriding the H100 entry with `values` (TOML literals)."""
    return ("[gpus.h100]\n" + "".join(f"{k} = {v}\n" for k, v in values.items())).encode()


def jsonl(*profiles: bytes) -> bytes:
    return b"".join(p + b"\n" for p in profiles)


def is_memo(data: bytes) -> bool:
    return data.startswith(b"---\n") and b"\n## Appendix" in data


def never(data: bytes) -> bool:
    return False


@dataclass
class Case:
    id: str
    kind: str  # the attack class, as in the issue
    args: list[str]  # {dir} is the case's directory
    files: dict[str, bytes] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # name → symlink target ({dir} filled in)
    fifos: tuple[str, ...] = ()
    hardlinks: dict[str, str] = field(default_factory=dict)  # new name → existing file
    code: int = 1
    message: str = ""  # must appear in the one error line (code 1)
    changes: dict[str, Callable[[bytes], bool]] = field(default_factory=dict)  # files that may change, and how
    stdout: Callable[[str], bool] | None = None
    stdin: bytes | None = None
    stderr: str = ""  # must appear on standard error (a command's own summary line)


def out_case(id: str, command: list[str], out: str, message: str, **kw) -> Case:
    return Case(id, "data loss", [*command, "--out", out], **kw, message=message)


DECIDE = ["decide", "{dir}/p.json"]
WITH_P = {"p.json": P}
INPUT = "is also an input of this run"
NOT_REGULAR = "(a device, pipe or socket)"


def interview(*extra: str) -> list[str]:
    return ["interview", "--answers", "{dir}/a.json", *extra]


def template(id: str, text: str, message: str, code: int = 1, **kw) -> Case:
    return Case(id, "sandbox", ["decide", "{dir}/p.json", "--template", "{dir}/t.j2", "--out", "{dir}/o.md"],
                {"p.json": P, "t.j2": text.encode()}, code=code, message=message, **kw)


def rules(id: str, files: dict[str, bytes], message: str, kind: str = "traceback", command: str = "decide",
          **kw) -> Case:
    return Case(id, kind, [command, "{dir}/p.json", "--rules", "{dir}/rules"],
                {"p.json": P, **{f"rules/{k}": v for k, v in files.items()}}, message=message, **kw)


def catalog(id: str, content: bytes, message: str, kind: str = "traceback", command: str = "decide", **kw) -> Case:
    return Case(id, kind, [command, "{dir}/p.json", "--catalog", "{dir}/c.toml"], {"p.json": P, "c.toml": content},
                message=message, **kw)


def answers(id: str, content: bytes, message: str, kind: str = "traceback") -> Case:
    return Case(id, kind, interview("--out", "{dir}/new.json", "--defaults"), {"a.json": content}, message=message)


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(), newline="")))


def csv_name_is(expected: str) -> Callable[[bytes], bool]:
    """The CSV holds a header and one record, read back intact, whose name cell is `expected`."""
    def check(data: bytes) -> bool:
        rows = csv_rows(data)
        return len(rows) == 2 and rows[1][rows[0].index("project")] == expected
    return check


def unescaped(token: bytes, data: bytes) -> bool:
    """`token` occurs in `data` without the backslash that makes it inert Markdown."""
    return re.search(rb"(?<!\\)" + re.escape(token), data) is not None


def memo_without(*forbidden: bytes, has: bytes = b"") -> Callable[[bytes], bool]:
    def check(data: bytes) -> bool:
        return is_memo(data) and has in data and not any(unescaped(f, data) for f in forbidden)
    return check


def front_matter_is_ours(data: bytes) -> bool:
    head = data.split(b"\n---\n", 1)[0]
    return is_memo(data) and b"status: accepted" not in head


LONG_NAME = "m" * 250 + ".md"
EXTREME = profile(**{"usage.requests_per_day": 10**12, "usage.input_tokens": 10**8, "usage.output_tokens": 10**8,
                     "usage.monthly_growth": 5, "budget.monthly_usd": 1e13, "budget.upfront_usd": 1e13,
                     "preferences.horizon_months": 120})
DEEP_TOML = b"x = " + b"[" * 100_000 + b"]" * 100_000 + b"\n"
HUGE_INT = b"1" + b"0" * 5000
BIG = b"z" * (17 * 1024 * 1024)

CASES = [
    # -- data loss: an output may never replace an input, a device, a pipe or a directory -----------------------------
    out_case("decide-out-is-the-profile", DECIDE, "{dir}/p.json", INPUT, files=WITH_P),
    out_case("decide-out-is-the-profile-spelt-otherwise", DECIDE, "{dir}/sub/../p.json", INPUT,
             files={**WITH_P, "sub/keep": b""}),
    out_case("decide-out-is-a-hard-link-to-the-profile", DECIDE, "{dir}/hard.json", INPUT, files=WITH_P,
             hardlinks={"hard.json": "p.json"}),
    out_case("decide-out-is-a-symlink-to-the-profile", DECIDE, "{dir}/lp.json", INPUT, files=WITH_P,
             links={"lp.json": "p.json"}),
    out_case("costs-out-is-the-profile", ["costs", "{dir}/p.json"], "{dir}/p.json", INPUT, files=WITH_P),
    out_case("explain-out-is-the-profile", ["explain", "{dir}/p.json"], "{dir}/p.json", INPUT, files=WITH_P),
    out_case("sensitivity-out-is-the-profile", ["sensitivity", "{dir}/p.json"], "{dir}/p.json", INPUT,
             files=WITH_P),
    out_case("batch-out-is-the-input", ["batch", "{dir}/in.jsonl"], "{dir}/in.jsonl", INPUT,
             files={"in.jsonl": jsonl(P)}),
    out_case("batch-out-is-the-input-through-a-symlink", ["batch", "{dir}/in.jsonl"], "{dir}/l.jsonl", INPUT,
             files={"in.jsonl": jsonl(P)}, links={"l.jsonl": "in.jsonl"}),
    out_case("decide-out-is-the-template", [*DECIDE, "--template", "{dir}/t.j2"], "{dir}/t.j2", INPUT,
             files={**WITH_P, "t.j2": b"{{ top.id }}"}),
    out_case("decide-out-is-the-catalog", [*DECIDE, "--catalog", "{dir}/c.toml"], "{dir}/c.toml", INPUT,
             files={**WITH_P, "c.toml": gpu(hourly_usd=3.5)}),
    out_case("costs-out-is-the-catalog", ["costs", "{dir}/p.json", "--catalog", "{dir}/c.toml"], "{dir}/c.toml",
             INPUT, files={**WITH_P, "c.toml": gpu(hourly_usd=3.5)}),
    out_case("batch-out-is-the-catalog", ["batch", "{dir}/in.jsonl", "--catalog", "{dir}/c.toml"], "{dir}/c.toml",
             INPUT, files={"in.jsonl": jsonl(P), "c.toml": gpu(hourly_usd=3.5)}),
    out_case("decide-out-is-a-rule-file", [*DECIDE, "--rules", "{dir}/rules"], "{dir}/rules/house.toml", INPUT,
             files={**WITH_P, "rules/house.toml": rule()}),
    out_case("explain-out-is-a-rule-file-given-alone", ["explain", "{dir}/p.json", "--rules", "{dir}/house.toml"],
             "{dir}/house.toml", INPUT, files={**WITH_P, "house.toml": rule()}),
    out_case("decide-out-is-a-directory", DECIDE, "{dir}/sub", "is a directory", files={**WITH_P, "sub/keep": b""}),
    out_case("decide-out-is-a-directory-with-slash", DECIDE, "{dir}/sub/", "names a directory",
             files={**WITH_P, "sub/keep": b""}),
    out_case("decide-out-new-name-with-slash", DECIDE, "{dir}/newdir/", "names a directory", files=WITH_P),
    out_case("decide-out-in-a-missing-directory", DECIDE, "{dir}/no/such/memo.md", "does not exist", files=WITH_P),
    out_case("decide-out-is-dev-null", DECIDE, "/dev/null", NOT_REGULAR, files=WITH_P),
    out_case("batch-out-is-dev-null", ["batch", "{dir}/in.jsonl"], "/dev/null", NOT_REGULAR,
             files={"in.jsonl": jsonl(P)}),
    out_case("costs-out-is-dev-null", ["costs", "{dir}/p.json"], "/dev/null", NOT_REGULAR, files=WITH_P),
    out_case("sensitivity-out-is-dev-zero", ["sensitivity", "{dir}/p.json"], "/dev/zero", NOT_REGULAR, files=WITH_P),
    out_case("decide-out-is-a-symlink-to-dev-null", DECIDE, "{dir}/null", NOT_REGULAR, files=WITH_P,
             links={"null": "/dev/null"}),
    out_case("decide-out-is-a-fifo", DECIDE, "{dir}/pipe", NOT_REGULAR, files=WITH_P, fifos=("pipe",)),
    out_case("batch-out-is-a-fifo", ["batch", "{dir}/in.jsonl"], "{dir}/pipe", NOT_REGULAR,
             files={"in.jsonl": jsonl(P)}, fifos=("pipe",)),
    out_case("decide-out-is-a-dangling-symlink", DECIDE, "{dir}/dangling.md", "symlink to nothing", files=WITH_P,
             links={"dangling.md": "{dir}/nowhere.md"}),
    Case("decide-out-symlink-to-a-file-is-written-through", "data loss", [*DECIDE, "--out", "{dir}/link.md"],
         {**WITH_P, "real.md": b"previous\n"}, links={"link.md": "real.md"}, code=0, changes={"real.md": is_memo}),
    Case("decide-out-with-a-250-character-name", "data loss", [*DECIDE, "--out", "{dir}/" + LONG_NAME], WITH_P,
         code=0, changes={LONG_NAME: is_memo}),
    Case("decide-out-dash-is-standard-output", "data loss", [*DECIDE, "--out", "-"], WITH_P, code=0,
         stdout=lambda s: s.startswith("---\n") and "**Decision:**" in s),
    Case("interview-memo-is-the-answers-file", "data loss", interview("--out", "{dir}/x.json", "--memo",
                                                                       "{dir}/a.json", "--defaults"),
         {"a.json": P}, message=INPUT),
    Case("interview-memo-is-out", "data loss", interview("--out", "{dir}/x.json", "--memo", "{dir}/x.json"),
         {"a.json": P}, message="are the same file"),
    Case("interview-out-named-like-the-default-memo", "data loss", interview("--out", "{dir}/memo.md"),
         {"a.json": P}, message="are the same file"),
    Case("interview-memo-is-the-catalog", "data loss", interview("--out", "{dir}/x.json", "--memo", "{dir}/c.toml",
                                                                 "--catalog", "{dir}/c.toml"),
         {"a.json": P, "c.toml": gpu(hourly_usd=3.5)}, message=INPUT),
    Case("interview-out-is-a-directory", "data loss", interview("--out", "{dir}/sub"),
         {"a.json": P, "sub/keep": b""}, message="is a directory"),
    Case("interview-memo-is-dev-null", "data loss", interview("--out", "{dir}/x.json", "--memo", "/dev/null"),
         {"a.json": P}, message=NOT_REGULAR),
    Case("interview-out-is-a-fifo", "data loss", interview("--out", "{dir}/pipe"), {"a.json": P},
         fifos=("pipe",), message=NOT_REGULAR),
    Case("interview-memo-ends-with-slash", "data loss", interview("--out", "{dir}/x.json", "--memo", "{dir}/m/"),
         {"a.json": P}, message="names a directory"),
    # -- CSV: every record reads back as one row; no cell is a formula -----------------------------------------------
    *(Case(f"batch-csv-name-{label}", "inert", ["batch", "{dir}/in.jsonl", "-f", "csv", "--out", "{dir}/o.csv"],
           {"in.jsonl": jsonl(profile(**{"project.name": name}))}, code=0,
           changes={"o.csv": csv_name_is(expected)})
      for label, name, expected in [
          ("carriage-return", "Bot\rfake,row", "Bot\rfake,row"),
          ("newline", "Bot\nfake,row", "Bot\nfake,row"),
          ("quote-and-comma", 'Bot "x", y', 'Bot "x", y'),
          ("formula-equals", "=HYPERLINK(\"http://evil\",\"x\")", "'=HYPERLINK(\"http://evil\",\"x\")"),
          ("formula-plus", "+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
          ("formula-minus", "-2+3", "'-2+3"),
          ("formula-at", "@SUM(1,2)", "'@SUM(1,2)"),
          ("formula-tab", "\t=1+1", "'\t=1+1"),
          ("formula-leading-carriage-return", "\r=1+1", "'\r=1+1"),
      ]),
    # -- templates: limits that hold whatever the template does --------------------------------------------------------
    template("template-nested-loops-over-a-long-string",
             "{% set s = 'x' * 9000000 %}{% for c in s %}{% for d in s %}{% endfor %}{% endfor %}", "longer than"),
    template("template-slow-filter-lipsum", "{{ lipsum(300000) }}", "longer than"),
    template("template-slow-filter-wordwrap", "{{ ('x ' * 4000000) | wordwrap(1) }}", "longer than"),
    template("template-gigantic-center", "{{ 'x' | center(4 * 10 ** 9) | length }}", "more memory"),
    template("template-gigantic-format-width", "{{ '{:>{}}'.format('x', 10 ** 10) }}", "more memory"),
    template("template-tilde-chain", "{% set s = 'x' * 5000000 %}{{ s ~ s ~ s }}", "output larger than"),
    template("template-percent-growth", "{{ '%s%s%s' % ('x' * 5000000, 'x' * 5000000, 'x') }}", "grew beyond"),
    template("template-percent-width", "{{ '%0*d' % (10 ** 8, 1) }}", "grew beyond"),
    template("template-plus-growth", "{% set s = 'x' * 6000000 %}{{ (s + s) | length }}", "grew beyond"),
    template("template-replace-growth", "{{ ('x' * 1000) | replace('x', 'x' * 100000) }}", "output larger than"),
    template("template-join-growth", "{{ range(100000) | join(',' * 1000) }}", "output larger than"),
    template("template-model-dump-json", "{{ d.model_dump_json(indent=10 ** 6) }}", "unsafe"),
    template("template-model-copy", "{{ d.model_copy(update={'profile': 1}) }}", "unsafe"),
    template("template-range-too-big", "{{ range(10 ** 6) | list | length }}", "Range too big"),
    template("template-recursive-loop", "{% for x in range(10) recursive %}{{ loop(range(10)) }}{% endfor %}",
             "recursion"),
    template("template-division-by-zero", "{{ 1 / 0 }}", "ZeroDivisionError"),
    template("template-bad-format", "{{ '%d' % 'x' }}", "TypeError"),
    template("template-globals-through-a-global", "{{ lipsum.__globals__ }}", "unsafe"),
    template("template-attr-filter-dunder", "{{ d | attr('__class__') }}", "unsafe"),
    template("template-extends-outside", "{% extends '../../../etc/passwd' %}", "not found"),
    template("template-output-loop", "{% for i in range(100000) %}{{ i | string * 200 }}{% endfor %}",
             "output larger than"),
    template("template-formats-big-numbers-fine", "{{ 10 ** 1000 }} {{ 1e308 * 10 }}", "", code=0,
             changes={"o.md": lambda b: b.startswith(b"1000") and b"inf" in b}),
    # -- untrusted text is inert in the memo, the terminal and messages ------------------------------------------------
    rules("rule-version-with-a-newline", {"pack.toml": b'[ruleset]\nversion = "1\\nstatus: accepted"\n'},
          "version", kind="inert"),
    rules("rule-version-with-markdown", {"pack.toml": b'[ruleset]\nversion = "[x](http://evil)"\n'},
          "version", kind="inert"),
    rules("rule-id-with-a-newline", {"house.toml": rule().replace(b'"house-rule"', b'"a\\nadvisor: wrote x"')},
          "rule", kind="inert"),
    Case("rule-why-with-html-and-links", "inert", [*DECIDE, "--rules", "{dir}/rules", "--out", "{dir}/o.md"],
         {**WITH_P, "rules/house.toml": veto(why="<script>alert(1)</script> [click](http://evil.example) `x`")},
         code=0, changes={"o.md": memo_without(b"<script>", b"[click]", b"`x`", has=b"house-rule")}),
    Case("rule-title-and-source-with-front-matter", "inert",
         [*DECIDE, "--rules", "{dir}/rules", "--out", "{dir}/o.md"],
         {**WITH_P, "rules/house.toml": veto(title="T\n---\nstatus: accepted", source="<b>x</b>\n---")},
         code=0, changes={"o.md": lambda b: front_matter_is_ours(b) and not unescaped(b"<b>", b)}),
    Case("catalog-gpu-name-with-html", "inert",
         [*DECIDE, "--catalog", "{dir}/c.toml", "--template", "{dir}/t.j2", "--out", "{dir}/o.md"],
         {**WITH_P, "c.toml": gpu(name='"<img src=x onerror=alert(1)> [x](http://evil)"'),
          "t.j2": b"{% for r in d.ranking %}{{ hardware(r) }}\n{% endfor %}"},
         code=0, changes={"o.md": lambda b: b"on 1 \xc3\x97 \\<img" in b and not unescaped(b"<img", b)
                          and not unescaped(b"[x]", b)}),
    Case("catalog-source-with-html", "inert", [*DECIDE, "--catalog", "{dir}/c.toml", "--out", "{dir}/o.md"],
         {**WITH_P, "c.toml": b'[defaults.mfu]\nvalue = 0.4\nsource = "<script>x</script>|| [a](b)"\n'
                              b'date = "2026-01"\n'},
         code=0, changes={"o.md": memo_without(b"<script>", b"[a](b)", has=b"mfu")}),
    Case("profile-name-with-terminal-escapes-on-stdout", "inert", ["decide", "{dir}/p.json"],
         {"p.json": NAMED["escape"]}, code=0, stdout=lambda s: "\x1b" not in s and "\x07" not in s and "Chat" in s),
    Case("profile-name-with-terminal-escapes-in-explain", "inert", ["explain", "{dir}/p.json"],
         {"p.json": NAMED["escape"]}, code=0, stdout=lambda s: "\x1b" not in s and "\x07" not in s),
    Case("profile-name-with-terminal-escapes-in-costs", "inert", ["costs", "{dir}/p.json"],
         {"p.json": NAMED["escape"]}, code=0, stdout=lambda s: "\x1b" not in s),
    Case("profile-name-with-terminal-escapes-in-batch", "inert", ["batch", "{dir}/in.jsonl"],
         {"in.jsonl": jsonl(NAMED["escape"])}, code=0, stdout=lambda s: "\x1b" not in s and "\\u001b" in s),
    Case("profile-name-forging-front-matter", "inert", [*DECIDE, "--out", "{dir}/o.md"],
         {"p.json": NAMED["front-matter"]}, code=0, changes={"o.md": front_matter_is_ours}),
    Case("profile-name-and-description-with-html", "inert", [*DECIDE, "--out", "{dir}/o.md"],
         {"p.json": NAMED["html"]}, code=0, changes={"o.md": memo_without(b"<script>", b"<img", b"[click](")}),
    Case("unknown-key-with-terminal-escapes", "inert", DECIDE,
         {"p.json": profile(**{"usage.\x1b[2Jx": 1})}, message="usage.\\x1b[2Jx: unknown field"),
    # -- files that never end or never open ---------------------------------------------------------------------------
    Case("catalog-dev-zero", "endless", [*DECIDE, "--catalog", "/dev/zero"], WITH_P, message=NOT_REGULAR),
    Case("catalog-fifo", "endless", [*DECIDE, "--catalog", "{dir}/c.toml"], WITH_P, fifos=("c.toml",),
         message=NOT_REGULAR),
    Case("catalog-symlink-to-dev-urandom", "endless", [*DECIDE, "--catalog", "{dir}/c.toml"], WITH_P,
         links={"c.toml": "/dev/urandom"}, message=NOT_REGULAR),
    Case("rules-dir-with-a-symlink-to-dev-zero", "endless", [*DECIDE, "--rules", "{dir}/rules"],
         {**WITH_P, "rules/ok.toml": rule()}, links={"rules/z.toml": "/dev/zero"}, message=NOT_REGULAR),
    Case("rules-dir-with-a-fifo", "endless", [*DECIDE, "--rules", "{dir}/rules"],
         {**WITH_P, "rules/ok.toml": rule()}, fifos=("rules/f.toml",), message=NOT_REGULAR),
    Case("rules-given-as-a-fifo", "endless", [*DECIDE, "--rules", "{dir}/r.toml"], WITH_P, fifos=("r.toml",),
         message=NOT_REGULAR),
    Case("rules-given-as-dev-zero", "endless", [*DECIDE, "--rules", "/dev/zero"], WITH_P, message=NOT_REGULAR),
    Case("rules-lint-dir-with-a-fifo", "endless", ["rules", "lint", "{dir}/rules"], {"rules/ok.toml": rule()},
         fifos=("rules/f.toml",), message=NOT_REGULAR),
    Case("profile-dev-zero", "endless", ["decide", "/dev/zero"], message=NOT_REGULAR),
    Case("profile-dev-urandom-for-costs", "endless", ["costs", "/dev/urandom"], message=NOT_REGULAR),
    Case("profile-fifo", "endless", ["decide", "{dir}/p.json"], fifos=("p.json",), message=NOT_REGULAR),
    Case("profile-fifo-for-sensitivity", "endless", ["sensitivity", "{dir}/p.json"], fifos=("p.json",),
         message=NOT_REGULAR),
    Case("template-dev-zero", "endless", [*DECIDE, "--template", "/dev/zero"], WITH_P, message=NOT_REGULAR),
    Case("template-fifo", "endless", [*DECIDE, "--template", "{dir}/t.j2"], WITH_P, fifos=("t.j2",),
         message=NOT_REGULAR),
    Case("answers-fifo", "endless", interview("--out", "{dir}/x.json"), fifos=("a.json",), message=NOT_REGULAR),
    Case("answers-dev-zero", "endless", ["interview", "--answers", "/dev/zero", "--out", "{dir}/x.json"],
         message=NOT_REGULAR),
    Case("batch-dev-zero", "endless", ["batch", "/dev/zero"], message=NOT_REGULAR),
    Case("batch-fifo", "endless", ["batch", "{dir}/in.jsonl"], fifos=("in.jsonl",), message=NOT_REGULAR),
    catalog("catalog-17-mib", b"# " + BIG + b"\n", "larger than 16 MiB", kind="endless"),
    rules("rules-17-mib", {"big.toml": b"# " + BIG + b"\n"}, "larger than 16 MiB", kind="endless"),
    catalog("catalog-gpus-by-the-thousand", b"".join(
        gpu(name='"n"', bf16_tflops=900, bandwidth_tbs=3, memory_gb=80, hourly_usd=2, source='"s"', date='"2026-01"',
            training_mfu_10b=0.3, training_source='"t"').replace(b"[gpus.h100]", b"[gpus.g%d]" % i)
        for i in range(1_200)), "gpus: Dictionary should have at most 1000 items", kind="endless"),
    rules("rules-by-the-thousand", {"many.toml": b"\n".join(
        rule().replace(b'"house-rule"', f'"r{i}"'.encode()) for i in range(1_200))}, "at most 1,000 in all",
        kind="endless"),
    rules("rules-of-a-hundred-clauses", {"long.toml": rule().replace(
        b'when.all = ["usage.requests_per_day > 0"]',
        b"when.all = [" + b", ".join(b'"usage.requests_per_day > %d"' % i for i in range(100)) + b"]")},
        "when.all", kind="endless"),
    Case("template-17-mib", "endless", [*DECIDE, "--template", "{dir}/t.j2"], {**WITH_P, "t.j2": BIG},
         message="larger than 16 MiB"),
    answers("answers-17-mib", b'{"x": "' + BIG + b'"}', "larger than 16 MiB", kind="endless"),
    Case("batch-line-over-1-mib-is-one-failed-record", "endless", ["batch", "{dir}/in.jsonl"],
         {"in.jsonl": b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}\n' + jsonl(P)}, code=1,
         stdout=lambda s: len(s.splitlines()) == 2 and "longer than 1024 KiB" in s.splitlines()[0]
         and "longer than" not in s.splitlines()[1], stderr="2 profiles: 1 decided, 1 failed"),
    # -- numbers and nesting beyond the parsers; wrong types where code expects numbers --------------------------------
    catalog("catalog-deeply-nested", DEEP_TOML, "c.toml: not a usable catalog"),
    catalog("catalog-5000-digit-number", gpu(hourly_usd=HUGE_INT.decode()), "c.toml"),
    rules("rules-deeply-nested", {"deep.toml": DEEP_TOML}, "deep.toml"),
    rules("rules-5000-digit-points", {"house.toml": rule().replace(b"points = -5", b"points = -" + HUGE_INT)},
          "house.toml"),
    answers("answers-5000-digit-number", b'{"usage": {"requests_per_day": ' + HUGE_INT + b"}}", "a.json"),
    answers("answers-deeply-nested", b"[" * 100_000 + b"]" * 100_000, "a.json"),
    answers("answers-non-numeric-eval-score",
            b'{"quality": {"evals": [{"approach": "prompt", "model": "gpt-4o", "score": "high"}]}}', "quality.evals"),
    answers("answers-priorities-of-the-wrong-type", b'{"preferences": {"priorities": "cost"}}', "priorities"),
    Case("profile-5000-digit-number", "traceback", DECIDE,
         {"p.json": P.replace(b'"requests_per_day": 2000', b'"requests_per_day": ' + HUGE_INT)},
         message="p.json"),
    catalog("catalog-gpu-price-1e308", gpu(hourly_usd="1e308"), "gpus.h100.hourly_usd"),
    catalog("catalog-gpu-flops-1e-300", gpu(bf16_tflops="1e-300"), "gpus.h100.bf16_tflops"),
    catalog("catalog-gpu-bandwidth-inf", gpu(bandwidth_tbs="inf"), "gpus.h100.bandwidth_tbs"),
    catalog("catalog-gpu-price-nan", gpu(hourly_usd="nan"), "gpus.h100.hourly_usd"),
    catalog("catalog-gpu-memory-zero", gpu(memory_gb=0), "gpus.h100.memory_gb"),
    catalog("catalog-device-bandwidth-1e308", b"[devices.phone]\nbandwidth_gbs = 1e308\n",
            "devices.phone.bandwidth_gbs"),
    catalog("catalog-default-value-1e308", b'[defaults.mfu]\nvalue = 1e308\nsource = "s"\ndate = "2026-01"\n',
            "mfu"),
    catalog("catalog-gpu-price-as-text", gpu(hourly_usd='"cheap"'), "gpus.h100.hourly_usd"),
    Case("rules-test-given-of-the-wrong-type", "traceback", ["rules", "test", "{dir}/rules"],
         {"rules/house.toml": rule() + b'[[rule.example]]\ngiven = { "usage.requests_per_day" = "lots" }\n'
                                      b"fires = true\n"},
         stderr="rule house-rule: example 1: example value for usage.requests_per_day must be a number"),
    Case("rules-test-given-an-unknown-field", "traceback", ["rules", "test", "{dir}/rules"],
         {"rules/house.toml": rule() + b'[[rule.example]]\ngiven = { "usage.requests_per_dya" = 5 }\n'
                                      b"fires = true\n"},
         stderr="example 1 gives unknown field 'usage.requests_per_dya' (did you mean usage.requests_per_day"),
    Case("clause-overflowing-at-run-time-does-not-stop-a-batch", "traceback",
         ["batch", "{dir}/in.jsonl", "--rules", "{dir}/rules"],
         {"in.jsonl": jsonl(P, profile(**{"usage.requests_per_day": 10**9})),
          "rules/house.toml": rule().replace(b"usage.requests_per_day > 0",
                                             b"usage.requests_per_day * 1e300 * 1e300 > 1e300")},
         code=0, stdout=lambda s: len(s.splitlines()) == 2 and all('"error"' not in x for x in s.splitlines())),
    Case("batch-of-identical-lines", "traceback", ["batch", "{dir}/in.jsonl"], {"in.jsonl": jsonl(P, P, P)}, code=0,
         stdout=lambda s: len(s.splitlines()) == 3 and all('"ok": true' in x for x in s.splitlines())),
    Case("batch-with-a-bom-and-crlf-line-ends", "traceback", ["batch", "{dir}/in.jsonl"],
         {"in.jsonl": b"\xef\xbb\xbf" + P + b"\r\n" + P + b"\r\n"}, code=0,
         stdout=lambda s: len(s.splitlines()) == 2 and all('"ok": true' in x for x in s.splitlines())),
    Case("seed-beyond-2-to-the-64", "traceback", ["sensitivity", "{dir}/p.json", "--seed", str(2**64)], WITH_P,
         message="from 0 to 2^63"),
    Case("seed-negative", "traceback", ["sensitivity", "{dir}/p.json", "--seed", "-1"], WITH_P,
         message="--seed"),
    Case("samples-a-billion", "traceback", ["sensitivity", "{dir}/p.json", "--samples", str(10**9)], WITH_P,
         message="--samples"),
    Case("estimate-training-params-1e308", "traceback",
         ["estimate", "training", "--params", "1e308", "--tokens", "2e12", "--gpu", "h100"], message="--params"),
    Case("estimate-api-tokens-1e30", "traceback",
         ["estimate", "api", "--model", "gpt-4o", "--input-tokens", str(10**30), "--output-tokens", "5"],
         message="--input-tokens"),
    Case("extreme-but-valid-profile-decides", "traceback", [*DECIDE, "--out", "{dir}/o.md"], {"p.json": EXTREME},
         code=0, changes={"o.md": lambda b: is_memo(b) and not re.search(rb"\bnan\b", b)}),
    Case("extreme-but-valid-profile-costs", "traceback", ["costs", "{dir}/p.json"], {"p.json": EXTREME}, code=0,
         stdout=lambda s: "e+" in s and not re.search(r"\bnan\b", s)),
    Case("estimate-serving-a-model-no-node-holds", "traceback",
         ["estimate", "serving", "--params", "1e13", "--gpu", "h100"], message="does not fit"),
    Case("date-beyond-the-calendar", "traceback", [*DECIDE, "--date", "99999-01-01"], WITH_P, message="--date"),
    Case("interview-out-is-standard-output", "data loss", interview("--out", "-"), {"a.json": P},
         message="--out -: the interview writes"),
    Case("example-name-walking-out-of-the-package", "endless", ["example", "../../../etc/passwd"],
         message="unknown example '../../../etc/passwd'"),
    Case("catalog-listing-from-a-fifo", "endless", ["catalog", "--catalog", "{dir}/c.toml"], fifos=("c.toml",),
         message=NOT_REGULAR),
    Case("rules-list-of-a-fifo", "endless", ["rules", "list", "{dir}/r.toml"], fifos=("r.toml",),
         message=NOT_REGULAR),
    Case("estimate-with-a-dev-zero-catalog", "endless",
         ["estimate", "training", "--params", "7e9", "--tokens", "2e12", "--gpu", "h100", "--catalog", "/dev/zero"],
         message=NOT_REGULAR),
    # -- messages: one line, bounded, nothing forged -------------------------------------------------------------------
    Case("unknown-key-with-a-newline", "message", DECIDE,
         {"p.json": profile(**{"usage.bad\nkey": 1})}, message="usage.bad\\nkey: unknown field"),
    Case("unknown-key-forging-a-wrote-line", "message", DECIDE,
         {"p.json": profile(**{"usage.x\nadvisor: wrote memo.md\nadvisor: prompt@api": 1})}, message="unknown field"),
    Case("unknown-key-of-5-mb", "message", DECIDE, {"p.json": profile(**{"usage." + "k" * 5_000_000: 1})},
         message="…"),
    catalog("catalog-table-name-with-a-newline", b'[gpus."h1\\nadvisor: wrote x"]\nhourly_usd = 2\n', "c.toml",
            kind="message"),
    catalog("catalog-bom", "\ufeff".encode() + gpu(hourly_usd=3.5), "", kind="message", code=0,
            stdout=lambda s: "**Decision:**" in s),
    Case("rules-bom", "message", [*DECIDE, "--rules", "{dir}/rules"], {**WITH_P, "rules/h.toml": b"\xef\xbb\xbf"
                                                                     + rule()}, code=0,
         stdout=lambda s: "**Decision:**" in s),
    Case("profile-bom", "message", DECIDE, {"p.json": b"\xef\xbb\xbf" + P}, code=0,
         stdout=lambda s: "**Decision:**" in s),
    Case("profile-nul-in-name", "message", DECIDE, {"p.json": profile(**{"project.name": "a\x00b"})}, code=0,
         stdout=lambda s: "\x00" not in s),
    Case("profile-bidi-override-in-name", "message", DECIDE,
         {"p.json": profile(**{"project.name": "Bot \u202eexe.txt"})}, code=0, stdout=lambda s: "\u202e" not in s),
    Case("out-path-with-a-newline", "message", [*DECIDE, "--out", "{dir}/a\nadvisor: b/m.md"], WITH_P,
         message="does not exist"),
    Case("example-name-with-terminal-escapes", "message", ["example", "x\x1b[2J"],
         message="unknown example 'x\\x1b[2J'"),
    Case("missing-profile-with-escapes-in-its-name", "message", ["decide", "{dir}/\x1b[2J.json"],
         message="no such profile file"),
]


def _state(directory: Path) -> dict[str, str]:
    """Every entry under `directory`: a symlink's target, a FIFO, a directory, or a regular file's hash."""
    state = {}
    for p in sorted(directory.rglob("*")):
        st = p.lstat()
        name = str(p.relative_to(directory))
        if stat.S_ISLNK(st.st_mode):
            state[name] = "link → " + os.readlink(p)
        elif stat.S_ISFIFO(st.st_mode):
            state[name] = "fifo"
        elif stat.S_ISDIR(st.st_mode):
            state[name] = "dir"
        else:
            state[name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return state


def _devices() -> dict[str, int]:
    return {d: os.stat(d).st_mode for d in ("/dev/null", "/dev/zero", "/dev/urandom")}


def _unblock(paths: list[Path]) -> threading.Timer:
    """Should a regression open a FIFO for reading, it would block forever: after 20 s give it a writer that closes
    at once, so the test fails on its assertions instead of hanging."""
    def release() -> None:
        for p in paths:
            try:
                os.close(os.open(p, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
    timer = threading.Timer(20, release)
    timer.daemon = True
    timer.start()
    return timer


def test_the_corpus_is_large_and_covers_every_class_and_entry_point():
    everything = CASES + [Case(c.id, c.kind, c.args) for c in PROCESS_CASES]
    assert len(everything) >= 100 and len({c.id for c in everything}) == len(everything)
    assert {c.kind for c in everything} == {"data loss", "sandbox", "inert", "endless", "traceback", "message",
                                            "environment"}
    words = {a for c in everything for a in c.args}
    assert {"decide", "costs", "explain", "sensitivity", "batch", "estimate", "interview", "rules", "example",
            "catalog", "--answers", "--catalog", "--rules", "--template", "--out", "--memo"} <= words


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_hostile_input(case, tmp_path, monkeypatch):
    monkeypatch.setattr(report, "MAX_RENDER_SECONDS", 0.5)  # the time limit itself is what is being tested
    for name, content in case.files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    for name, target in case.links.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).symlink_to(target.format(dir=tmp_path))
    for name in case.fifos:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(tmp_path / name)
    for name, existing in case.hardlinks.items():
        os.link(tmp_path / existing, tmp_path / name)
    args = [a.format(dir=tmp_path) for a in case.args]
    before, devices = _state(tmp_path), _devices()
    timer = _unblock([tmp_path / f for f in case.fifos])
    try:
        r = runner.invoke(app, args, input=case.stdin)
    finally:
        timer.cancel()
    assert r.exit_code == case.code, (r.exit_code, r.stderr[:2000], r.stdout[:2000])
    assert "Traceback" not in r.output and (r.exception is None or isinstance(r.exception, SystemExit))
    if case.code == 1 and case.message:
        assert ONE_LINE.match(r.stderr.rstrip("\n")), r.stderr[:2000]
        assert case.message in r.stderr, r.stderr[:2000]
        assert len(r.stderr) <= 1100 and "\x1b" not in r.stderr
    assert case.stderr in r.stderr and "\x1b" not in r.stderr, r.stderr[:2000]
    if case.stdout is not None:
        assert case.stdout(r.stdout), r.stdout[:3000]
    elif case.code == 1:
        assert r.stdout == ""
    after = _state(tmp_path)
    assert _devices() == devices
    for name, check in case.changes.items():
        assert name in after and after[name] != before.get(name), f"{name} was not written"
        assert check((tmp_path / name).read_bytes()), (tmp_path / name).read_bytes()[:3000]
    # everything else is as it was: inputs, other outputs, links, pipes; no temporary file is left
    assert {k: v for k, v in after.items() if k not in case.changes} == \
        {k: v for k, v in before.items() if k not in case.changes}


# -- cases that need a real process: locales, standard streams, signals ------------------------------------------------

@dataclass
class ProcessCase:
    id: str
    args: list[str]
    env: dict[str, str | None] = field(default_factory=dict)  # None removes the variable
    stdout: str = "pipe"  # pipe, full, closed
    stdin_closed: bool = False
    code: int = 0
    message: str = ""
    signal: int | None = None  # sent as soon as the process has started
    kind: str = "environment"


EXAMPLE = str(ROOT / "examples" / "customer-chatbot.json")
PROCESS_CASES = [
    ProcessCase("memo-under-ascii-output", ["decide", EXAMPLE], {"PYTHONIOENCODING": "ascii"}),
    ProcessCase("memo-under-the-c-locale", ["decide", EXAMPLE],
                {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": None}),
    ProcessCase("error-under-ascii-output", ["sensitivity", EXAMPLE, "--seed", str(2**64)],
                {"PYTHONIOENCODING": "ascii"}, code=1, message="from 0 to 2^63"),
    ProcessCase("costs-under-latin-1-output", ["costs", EXAMPLE], {"PYTHONIOENCODING": "latin-1"}),
    ProcessCase("home-unset", ["decide", EXAMPLE, "--format", "json"], {"HOME": None}),
    ProcessCase("cache-dir-pointing-at-a-file", ["decide", EXAMPLE, "--format", "json"],
                {"ADVISOR_CACHE_DIR": "/etc/passwd"}),
    ProcessCase("stdout-on-a-full-device", ["decide", EXAMPLE], stdout="full", code=1, message="standard output"),
    ProcessCase("stdout-closed", ["costs", EXAMPLE], stdout="closed", code=1, message="standard output"),
    ProcessCase("help-on-a-full-device", ["--help"], stdout="full", code=1, message="standard output"),
    ProcessCase("decide-from-a-closed-stdin", ["decide", "-"], stdin_closed=True, code=1,
                message="standard input is closed"),
    ProcessCase("batch-from-a-closed-stdin", ["batch", "-"], stdin_closed=True, code=1,
                message="standard input is closed"),
    ProcessCase("interview-with-stdin-closed", ["interview", "--out", "answers.json"], stdin_closed=True, code=2,
                message="needs a terminal"),
    ProcessCase("version-with-stdout-closed", ["--version"], stdout="closed", code=1, message="standard output"),
    ProcessCase("out-is-own-stdout-pipe", ["decide", EXAMPLE, "--out", "/proc/self/fd/1"], code=1,
                message=NOT_REGULAR),
    ProcessCase("sigint-during-start-up", ["decide", EXAMPLE], signal=signal.SIGINT, code=130,
                message="interrupted"),
    ProcessCase("sigterm-during-start-up", ["batch", "-"], signal=signal.SIGTERM, code=130, message="interrupted"),
]


@pytest.mark.parametrize("case", PROCESS_CASES, ids=lambda c: c.id)
def test_hostile_environment(case, tmp_path):
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    for k, v in case.env.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    command = [sys.executable, "-c", "from advisor.entry import main; main()", *case.args]
    before = _state(tmp_path)
    if case.stdout == "pipe":
        stdout = subprocess.PIPE
    elif case.stdout == "full":
        stdout = open("/dev/full", "wb")
    else:
        stdout = None
    closed = [fd for fd, shut in ((0, case.stdin_closed), (1, case.stdout == "closed")) if shut]

    def close_them() -> None:
        for fd in closed:
            os.close(fd)

    kwargs = {"preexec_fn": close_them} if closed else {}
    proc = subprocess.Popen(command, stdout=stdout, stderr=subprocess.PIPE, stdin=subprocess.PIPE, cwd=tmp_path,
                            env=env, **kwargs)
    if case.signal is not None:
        try:  # mid start-up: the interpreter is running, the heavy imports are not done
            proc.wait(timeout=0.25)
        except subprocess.TimeoutExpired:
            proc.send_signal(case.signal)
    out, err = proc.communicate(timeout=120)
    if case.stdout == "full":
        stdout.close()
    text = err.decode("utf-8", "replace")
    assert proc.returncode == case.code, (proc.returncode, text[-2000:])
    assert "Traceback" not in text, text[-3000:]
    if case.code != 0:
        lines = text.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("advisor: ") and case.message in lines[0], text
    elif case.stdout == "pipe":
        assert out.strip(), text
        if case.env.get("PYTHONIOENCODING") == "ascii":
            out.decode("ascii")  # every character encodable, the rest escaped
    assert _state(tmp_path) == before
