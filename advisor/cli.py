"""The command line: parse arguments, call the library, print. Data goes to stdout, messages to stderr.

Exit codes: 0 success, 1 bad input or a failed check, 2 usage error, 130 interrupted. User errors are turned into
one line in exactly one place, `_Group.invoke`.
"""

import errno
import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from . import __version__
from .errors import AdvisorError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from pydantic import BaseModel

    from .evaluation import Advisor


# Commands in the order a new user needs them (`advisor --help`), not alphabetical.
ORDER = ("interview", "decide", "explain", "sensitivity", "costs", "batch", "estimate", "rules", "schema", "example",
         "catalog")


class _Group(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except AdvisorError as e:
            typer.echo(f"advisor: {'' if e.exit_code == 130 else 'error: '}{one_line(str(e))}", err=True)
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("advisor: interrupted", err=True)
            raise typer.Exit(130) from None
        except BrokenPipeError:  # `advisor ... | head`: the reader left; not an error worth a traceback
            sys.stderr.close()
            raise typer.Exit(0) from None

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Standard output on a full device, or closed, is one line and exit 1 — for a command's output and for what
        the parser itself prints (`--help`, `--version`) alike. (Files written with --out report their own errors.)"""
        try:
            return super().main(*args, **kwargs)
        except OSError as e:
            if e.errno not in (errno.ENOSPC, errno.EBADF, errno.EIO, errno.EDQUOT):
                raise
            sys.stderr.write(f"advisor: error: cannot write to standard output: {e.strerror}\n")
            sys.exit(1)


MAX_MESSAGE = 1000  # characters: a message quoting a huge input stays readable


def one_line(text: str) -> str:
    """A message as one line: control characters (newlines, terminal escapes) shown as escapes, at most
    MAX_MESSAGE characters — so no input can split it, forge an `advisor: …` line or flood the terminal."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return shown if len(shown) <= MAX_MESSAGE else shown[:MAX_MESSAGE - 1] + "…"


app = typer.Typer(cls=_Group, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  rich_markup_mode=None, help="Decide how to build an AI feature: prompt, RAG, fine-tune, continue "
                  "pre-training or train, on an API, own GPUs or the device — with sourced costs.\n\n"
                  "Start here: `advisor interview` asks about your project and writes the decision memo; or try a "
                  "shipped example: `advisor decide examples/support-copilot.json --out memo.md` (`advisor example` "
                  "lists them).")
estimate_app = typer.Typer(cls=_Group, no_args_is_help=True, help="Quick estimates: training, serving, API.")
app.add_typer(estimate_app, name="estimate")
rules_app = typer.Typer(cls=_Group, no_args_is_help=True,
                        help="Check, test and list rule files (the shipped rules plus any DIR given).")
app.add_typer(rules_app, name="rules")


class Format(StrEnum):
    markdown = "markdown"
    json = "json"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"advisor {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """advisor: evidence-based AI build-vs-buy decisions."""


ProfileArg = Annotated[str, typer.Argument(metavar="PROFILE", help="Profile JSON file, or - for stdin.")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
OutOpt = Annotated[str | None, typer.Option("--out", "-o", metavar="PATH", help="Write to this file (atomically) "
                                               "instead of stdout (- is stdout); it may not be an input of the run.")]
CatalogOpt = Annotated[Path | None, typer.Option("--catalog", help="TOML file layered over the shipped catalog.",
                                                    dir_okay=False)]
RulesOpt = Annotated[list[Path] | None, typer.Option(
    "--rules", metavar="DIR", help="Directory (or file) of extra rule files, loaded after the shipped rules. "
    "Repeatable.")]


def _emit(text: "str | Callable[[], str]", out: str | Path | None, inputs: "Sequence[str | Path]" = ()) -> None:
    """Print `text` (no `out`, or `-`), or write it to `out` — which must not be one of the run's `inputs` (see
    io.output_target). `text` may be a function that makes it: a refused `out` is then refused before the work."""
    from .io import output_target, shown, write_atomic

    if out is not None and str(out) != "-":
        output_target(out, inputs)
    body = text() if callable(text) else text
    body = body if body.endswith("\n") else body + "\n"
    if out is None or str(out) == "-":
        sys.stdout.write(body)
    else:
        write_atomic(out, body, inputs)
        typer.echo(f"advisor: wrote {shown(out)}", err=True)


def _file_path(text: str, option: str) -> Path:
    from .errors import InputError
    from .io import shown

    if not text or text.endswith(("/", os.sep)):
        raise InputError(f"{option} {shown(text)}: names a directory; give a file name")
    if text == "-":
        raise InputError(f"{option} -: the interview writes this to a file; give a file name")
    return Path(text)


def _inputs(*paths: "str | Path | None", rules: "list[Path] | None" = None) -> list[str | Path]:
    """Every file a command reads: its profile, catalog and template, and each rule file under --rules."""
    from .rules import rule_files

    found: list[str | Path] = [p for p in paths if p is not None]
    for entry in rules or ():
        found += rule_files(entry)
    return found


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)


def _advisor(catalog: Path | None = None, rules: list[Path] | None = None, alone: bool = False) -> "Advisor":
    """The Advisor for a command: the shipped catalog and rules, with a command's --catalog and --rules layered on
    (with `alone`, only the --rules given: for checking a rule pack by itself)."""
    from .errors import InputError
    from .evaluation import Advisor

    if alone and not rules:
        raise InputError("--alone needs at least one DIR")
    return Advisor(catalog, [r.resolve() for r in rules or ()], shipped_rules=not alone)


@app.command()
def costs(profile: ProfileArg, format: FormatOpt = Format.markdown, out: OutOpt = None,
          catalog: CatalogOpt = None) -> None:
    """Price every candidate path of a profile: upfront, monthly, TCO, per request, latency, break-even."""
    advisor = _advisor(catalog)
    ev = advisor.evaluate(profile)

    def text() -> str:
        if format is Format.json:
            return _json({"candidates": [x.model_dump(mode="json") for x in ev.priced],
                          "assumptions": [u.model_dump(mode="json") for u in ev.assumptions]})
        return advisor.templates.render("costs.md.j2", profile=ev.profile, priced=ev.priced)

    _emit(text, out, _inputs(profile, catalog))


@app.command()
def decide(profile: ProfileArg, format: FormatOpt = Format.markdown, out: OutOpt = None, rules: RulesOpt = None,
           catalog: CatalogOpt = None,
           template: Annotated[Path | None, typer.Option(
               "--template", help="Render the memo with this Jinja2 template instead (sandboxed; it may "
               "{% extends \"decision.md.j2\" %} and override blocks).", dir_okay=False)] = None,
           date: Annotated[str | None, typer.Option("--date", metavar="YYYY-MM-DD", help="The memo's date (default: "
                                                       "today).")] = None) -> None:
    """Recommend a path: price every candidate, apply the rules, rank; a Markdown decision memo or the JSON."""
    from .errors import InputError

    if template is not None and format is Format.json:
        raise InputError("--template applies to --format markdown")
    when = _date(date)
    ev = _advisor(catalog, rules).evaluate(profile)
    inputs = _inputs(profile, catalog, template, rules=rules)
    if format is Format.json:
        _emit(lambda: _json(ev.decision.model_dump(mode="json")), out, inputs)
    else:
        _emit(lambda: ev.memo(date=when, template=template), out, inputs)
        if out is not None:  # the memo went to a file: say what it decided, here
            typer.echo(_headline(ev.summary), err=True)


def _headline(s: Any) -> str:
    """One line a person reads after a memo was written: the recommendation, its confidence and its money."""
    from .fmt import usd

    viable = "" if s.viable else " — no path meets every must-have; this is the closest"
    return (f"advisor: {s.recommendation} ({s.label}), confidence {s.confidence}{viable}: {usd(s.tco_usd)} over "
            f"{s.horizon_months} months, {usd(s.monthly_usd_first)}/month now")


def _date(text: str | None) -> str | None:
    import datetime

    from .errors import InputError

    if text is None:
        return None
    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        raise InputError(f"--date {text!r}: not a date; use YYYY-MM-DD") from None


@app.command()
def explain(profile: ProfileArg,
            candidate: Annotated[str | None, typer.Option("--candidate", "-c", metavar="ID",
                                                             help="Only this candidate, e.g. prompt+rag@api.")] = None,
            format: FormatOpt = Format.markdown, out: OutOpt = None, rules: RulesOpt = None,
            catalog: CatalogOpt = None) -> None:
    """Show every rule for each candidate — fired or not — with each clause's actual values and its effect."""
    advisor = _advisor(catalog, rules)
    ev = advisor.evaluate(profile)

    def text() -> str:
        trace = ev.explain(candidate)
        return _json(trace) if format is Format.json else advisor.templates.render("explain.md.j2", candidates=trace)

    _emit(text, out, _inputs(profile, catalog, rules=rules))


@app.command()
def sensitivity(profile: ProfileArg,
                samples: Annotated[int, typer.Option("--samples", "-n", metavar="N",
                                                     help="Monte Carlo scenarios (1 to 200,000).")] = 10_000,
                seed: Annotated[int, typer.Option("--seed", metavar="N", help="Random seed: the same seed gives the "
                                                  "same result.")] = 2026,
                format: FormatOpt = Format.markdown, out: OutOpt = None, rules: RulesOpt = None,
                catalog: CatalogOpt = None) -> None:
    """How robust the recommendation is: a tornado of each uncertain input over its range, the values at which
    the winner flips, and Monte Carlo shares of first place with TCO percentiles. Ranges come from the profile's
    `uncertainty` section, else the catalog's sourced defaults."""
    advisor = _advisor(catalog, rules)
    ev = advisor.evaluate(profile)

    def text() -> str:
        result = ev.sensitivity(samples=samples, seed=seed)
        return (_json(result.model_dump(mode="json")) if format is Format.json
                else advisor.templates.render("sensitivity.md.j2", s=result))

    _emit(text, out, _inputs(profile, catalog, rules=rules))


class BatchFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


@app.command()
def batch(source: Annotated[str, typer.Argument(metavar="IN.jsonl", help="One profile JSON object per line, or - "
                                                "for stdin.")],
          out: OutOpt = None,
          format: Annotated[BatchFormat, typer.Option("--format", "-f", help="Output format.")] = BatchFormat.jsonl,
          rules: RulesOpt = None, catalog: CatalogOpt = None,
          jobs: Annotated[int, typer.Option("--jobs", "-j", min=0, max=256, metavar="N", help="Worker processes for "
                                            "large inputs (0 = one per CPU).")] = 0) -> None:
    """Decide many profiles: one summary per input line, in order (recommendation, score, confidence, runner-up,
    costs). A bad line becomes an error record with its line number and the rest continue; exit 1 if any line
    failed. A portfolio summary (decisions by path and confidence) goes to stderr."""
    from .batch import run
    from .io import atomic_writer

    dirs = tuple(rules or ())
    if out is None or out == "-":
        writer = run(source, sys.stdout, format.value, catalog_path=catalog, rule_dirs=dirs, jobs=jobs)
    else:
        with atomic_writer(out, _inputs(source, catalog, rules=rules)) as fh:
            writer = run(source, fh, format.value, catalog_path=catalog, rule_dirs=dirs, jobs=jobs)
    typer.echo(f"advisor: {writer.portfolio()}", err=True)
    if writer.failed:
        raise typer.Exit(1)


DirArg = Annotated[list[Path] | None, typer.Argument(metavar="[DIR]...", help="Rule directories or files to check "
                                                        "with the shipped rules (default: the shipped rules only).")]
AloneOpt = Annotated[bool, typer.Option("--alone", help="Check DIR on its own, without the shipped rules.")]


@rules_app.command()
def lint(dirs: DirArg = None, alone: AloneOpt = False) -> None:
    """Load and type-check rule files; one error names the file, rule, field and the nearest known fields."""
    rs = _advisor(None, dirs, alone).rules
    files = len({r.file for r in rs.rules})
    _emit(f"ok: {len(rs.rules)} rules in {files} files (ruleset {rs.version}, digest {rs.digest})", None)


@rules_app.command("test")
def test_cmd(dirs: DirArg = None, alone: AloneOpt = False) -> None:
    """Run every rule's [[rule.example]] blocks (given facts → fires true/false); exit 1 if any fails."""
    from .errors import RuleError

    rs = _advisor(None, dirs, alone).rules
    failures = rs.examples_failures()
    if failures:
        for f in failures:
            typer.echo(f"FAIL {f}", err=True)
        raise RuleError(f"{len(failures)} rule example(s) failed")
    n = sum(len(r.spec.example) for r in rs.rules)
    _emit(f"ok: {n} examples in {sum(1 for r in rs.rules if r.spec.example)} of {len(rs.rules)} rules pass", None)


@rules_app.command("list")
def list_cmd(dirs: DirArg = None, alone: AloneOpt = False, format: FormatOpt = Format.markdown) -> None:
    """List every rule: id, what it applies to, its effect, why, and the guidance it cites."""
    advisor = _advisor(None, dirs, alone)
    rs = advisor.rules
    if format is Format.json:
        _emit(_json([{"file": r.file, **r.spec.model_dump(mode="json")} for r in rs.rules]), None)
    else:
        _emit(advisor.templates.render("rules.md.j2", ruleset=rs), None)


@app.command()
def interview(
        out_text: Annotated[str, typer.Option("--out", "-o", metavar="PATH", help="Answers file, saved after every "
                                              "answer; the finished profile.")] = "profile.json",
        resume: Annotated[bool, typer.Option("--resume", help="Continue the interrupted interview saved in --out."
                                             )] = False,
        answers: Annotated[Path | None, typer.Option("--answers", help="Pre-fill from this (partial) profile "
                                                        "JSON; only what is missing is asked.", dir_okay=False)
                           ] = None,
        defaults: Annotated[bool, typer.Option("--defaults", help="Do not ask: take every schema default (fails "
                                               "naming the questions that have none).")] = False,
        memo_text: Annotated[str | None, typer.Option("--memo", metavar="PATH", help="Where to write the decision "
                                                         "memo (default: memo.md beside --out).")] = None,
        rules: RulesOpt = None, catalog: CatalogOpt = None) -> None:
    """Answer guided questions about the project; writes the profile and the decision memo, prints the decision."""
    from .interview import conduct
    from .io import distinct_files, shown

    out = _file_path(out_text, "--out")
    target = _file_path(memo_text, "--memo") if memo_text is not None else out.parent / "memo.md"
    # Checked before the first question: the answers, the memo and every input are different files.
    distinct_files({"--out (the answers)": out, "--memo": target}, _inputs(answers, catalog, rules=rules))
    profile = conduct(out, resume=resume, answers=answers, use_defaults=defaults)
    ev = _advisor(catalog, rules).evaluate(profile)
    _emit(ev.memo(), target, _inputs(out, answers, catalog, rules=rules))
    typer.echo(f"advisor: profile saved to {shown(out)}", err=True)
    rec = ev.decision.recommendation
    _emit(f"{rec.id} (confidence {rec.confidence}) — {rec.summary} Memo: {target}", None)


@app.command()
def schema() -> None:
    """Print the profile's JSON Schema (every field with its description, type and range)."""
    from .schema import json_schema

    _emit(_json(json_schema()), None)


@app.command()
def example(name: Annotated[str | None, typer.Argument(help="Example to print; omit to list them.")] = None
            ) -> None:
    """List the shipped example profiles, or print one."""
    from .examples import get, listing

    if name is None:
        width = max(len(n) for n, _ in listing())
        _emit("\n".join(f"{n:<{width}}  {desc}" for n, desc in listing()), None)
    else:
        _emit(get(name), None)


@app.command("catalog")
def catalog_cmd(format: FormatOpt = Format.markdown, catalog: CatalogOpt = None) -> None:
    """List every GPU, price and default the cost model uses, with sources and dates."""
    advisor = _advisor(catalog)
    if format is Format.json:
        _emit(_json(advisor.catalog.model_dump(mode="json")), None)
    else:
        _emit(advisor.templates.render("catalog.md.j2", catalog=advisor.catalog), None)


# -- estimates ---------------------------------------------------------------------------------------------------

GpuOpt = Annotated[str, typer.Option("--gpu", metavar="ID", help="GPU id: h100, h200, a100-80gb, a100-40gb, l4, l40s, "
                                     "a10g, b200, mi300x (or one from --catalog).")]
HourlyOpt = Annotated[float | None, typer.Option("--gpu-hourly-usd", help="USD per GPU-hour (default: the "
                                                    "catalog's on-demand price).")]


def _estimate_out(result: "BaseModel", format: Format, lines: list[str]) -> None:
    _emit(_json(result.model_dump(mode="json")) if format is Format.json else "\n".join(lines), None)


@estimate_app.command()
def training(params: Annotated[float, typer.Option("--params", help="Model parameters, e.g. 7e9.")],
             tokens: Annotated[float, typer.Option("--tokens", help="Training tokens, e.g. 2e12.")],
             gpu: GpuOpt,
             mfu: Annotated[float | None, typer.Option("--mfu", help="Model FLOPs utilization (default: the GPU "
                                                        "generation's, by model size; see `advisor catalog`).")
                            ] = None,
             fine_tune: Annotated[bool, typer.Option("--fine-tune", help="A fine-tuning run (lower MFU: short "
                                                     "runs, small batches).")] = False,
             gpu_hourly_usd: HourlyOpt = None, format: FormatOpt = Format.markdown,
             catalog: CatalogOpt = None) -> None:
    """Training compute: FLOPs ≈ 6·N·D, GPU-hours and cost."""
    from .fmt import num, usd

    r = _advisor(catalog).estimate_training(params, tokens, gpu, mfu=mfu, gpu_hourly_usd=gpu_hourly_usd,
                                            fine_tune=fine_tune)
    _estimate_out(r, format, [f"FLOPs:     {r.flops:.3g} (6 × {num(params)} params × {num(tokens)} tokens)",
                              f"GPU-hours: {r.gpu_hours:,.0f} on {gpu} at MFU {r.mfu:.3g}",
                              f"Cost:      {usd(r.cost_usd)} at ${r.gpu_hourly_usd:g}/GPU-hour"])


@estimate_app.command()
def serving(params: Annotated[float, typer.Option("--params", help="Model parameters, e.g. 8e9.")],
            gpu: GpuOpt,
            precision: Annotated[str, typer.Option("--precision", help="bf16, fp16, fp8, int8 or int4.")] = "bf16",
            input_tokens: Annotated[int, typer.Option("--input-tokens", help="Prompt tokens per request.")] = 1000,
            output_tokens: Annotated[int, typer.Option("--output-tokens", help="Output tokens per request.")
                                     ] = 200,
            concurrency: Annotated[int | None, typer.Option(
                "--concurrency", help="Sequences in flight (1 = a single user). Default: saturated, the most that "
                "fit in memory, as throughput benchmarks report it.")] = None,
            gpu_hourly_usd: HourlyOpt = None, format: FormatOpt = Format.markdown,
            catalog: CatalogOpt = None) -> None:
    """Self-hosted serving: GPUs per replica, output tokens/s, latency, USD per million output tokens."""
    r = _advisor(catalog).estimate_serving(params, gpu, precision, input_tokens=input_tokens,
                                           output_tokens=output_tokens, gpu_hourly_usd=gpu_hourly_usd,
                                           concurrency=concurrency)
    load = "saturated" if r.saturated else "as asked"
    _estimate_out(r, format, [f"GPUs per replica:   {r.gpus_per_replica} × {gpu} ({precision})",
                              f"Output tokens/s:    {r.output_tokens_per_s:,.0f} at {r.batch} sequences in flight "
                              f"({load})",
                              f"Time to 1st token:  {r.ttft_ms:,.0f} ms (median)",
                              f"Per output token:   {r.ms_per_output_token:.1f} ms per sequence",
                              f"USD per M output:   ${r.usd_per_million_output_tokens:.3f} at "
                              f"${r.gpu_hourly_usd:g}/GPU-hour"])


@estimate_app.command()
def api(model: Annotated[str, typer.Option("--model", help="Hosted model id known to genai-prices, e.g. gpt-4o, "
                                           "or provider:model, e.g. groq:llama-3.3-70b-versatile.")],
        input_tokens: Annotated[int, typer.Option("--input-tokens", help="Input tokens per request (cached "
                                                  "included).")],
        output_tokens: Annotated[int, typer.Option("--output-tokens", help="Output tokens per request.")],
        cached_tokens: Annotated[int, typer.Option("--cached-tokens", help="Of the input, tokens read from the "
                                                   "prompt cache.")] = 0,
        requests: Annotated[int, typer.Option("--requests", help="Number of such requests (each priced on its "
                                              "own, so long-context tiers apply per request).")] = 1,
        format: FormatOpt = Format.markdown, catalog: CatalogOpt = None) -> None:
    """Hosted API price of requests, from genai-prices (time-of-day tariffs averaged over the day)."""
    from .fmt import usd

    r = _advisor(catalog).estimate_api(model, input_tokens, output_tokens, cached_tokens, requests)
    each = "" if r.requests == 1 else f" for {r.requests:,} requests, {usd(r.usd_per_request)} each"
    _estimate_out(r, format, [f"Cost: {usd(r.usd)}{each}", f"Prices: {r.prices}"])


@estimate_app.command()
def latency(model: Annotated[str, typer.Option("--model", help="Hosted model id, e.g. gpt-4o-mini.")],
            input_tokens: Annotated[int, typer.Option("--input-tokens", help="Prompt tokens.")],
            output_tokens: Annotated[int, typer.Option("--output-tokens", help="Output tokens.")],
            format: FormatOpt = Format.markdown, catalog: CatalogOpt = None) -> None:
    """Hosted-API latency of one call: median time to first token, output speed, median and p95 total."""
    r = _advisor(catalog).estimate_latency(model, input_tokens, output_tokens)
    _estimate_out(r, format, [f"Time to 1st token: {r.ttft_ms:,.0f} ms (median)",
                              f"Output speed:      {r.output_tokens_per_s:,.0f} tokens/s (median)",
                              f"Whole call:        {r.p50_ms:,.0f} ms median, {r.p95_ms:,.0f} ms p95",
                              f"Basis:             {r.basis}"])
