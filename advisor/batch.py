"""`advisor batch`: one profile per JSON line in, one decision summary per line out, in input order.

A bad line becomes an error record naming its line number and the rest carry on. Each line's summary is exactly
what `summary_of(decide(profile))` gives (the tests check 10,000 generated profiles), computed without building the
full Decision. Large inputs fan out over worker processes; small ones (fewer than `FAN_OUT` lines) run in-process,
where starting workers would cost more than it saves.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import signal
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, ValidationError

from .catalog import Catalog, load_catalog
from .engine import ALL_VETOED, Decision, scored, verdict
from .errors import AdvisorError
from .io import describe_validation_error, read_bytes
from .rules import RuleSet, load_rules
from .schema import Profile

MAX_LINE_BYTES = 1024 * 1024  # a profile is a few KB
FAN_OUT = 512  # lines read before deciding to start worker processes
CHUNK = 64  # lines per task sent to a worker


class Summary(BaseModel):
    """One line of `advisor batch` output for a profile that was decided."""

    line: int
    ok: bool = True
    project: str
    recommendation: str
    label: str
    score: float
    confidence: str
    margin: float | None
    runner_up: str | None
    eligible: int
    all_vetoed: bool
    tco_usd: float
    upfront_usd: float
    monthly_usd_first: float
    monthly_usd_last: float
    cost_per_request_usd: float | None
    horizon_months: int


class Failure(BaseModel):
    """One line of `advisor batch` output for a line that could not be decided."""

    line: int
    ok: bool = False
    error: str


COLUMNS = tuple(Summary.model_fields) + ("error",)


def summary_of(decision: Decision, line: int = 0) -> Summary:
    """The batch summary of a full decision (what `advisor decide` says, in one line)."""
    top, r = decision.ranking[0], decision.recommendation
    runner = next((x for x in decision.ranking[1:] if x.eligible), None)
    return Summary(line=line, project=decision.project, recommendation=r.id, label=r.label, score=r.score,
                   confidence=r.confidence, margin=r.margin, runner_up=runner.id if runner else None,
                   eligible=sum(x.eligible for x in decision.ranking), all_vetoed=ALL_VETOED in decision.warnings,
                   tco_usd=top.cost.tco_usd, upfront_usd=top.cost.upfront_usd,
                   monthly_usd_first=top.cost.monthly_usd_first, monthly_usd_last=top.cost.monthly_usd_last,
                   cost_per_request_usd=top.cost.cost_per_request_usd,
                   horizon_months=decision.profile.preferences.horizon_months)


def summarize(profile: Any, line: int = 0, *, catalog: Catalog | None = None,
              rules: RuleSet | None = None) -> Summary:
    """`summary_of(decide(profile))` without the Decision's models: the batch hot path."""
    from .engine import LABELS, _confidence

    profile, ranked = scored(profile, catalog=catalog, rules=rules)
    top, runner, margin = verdict(ranked)
    cost = top.cost
    return Summary(line=line, project=profile.project.name, recommendation=top.id, label=LABELS[top.id],
                   score=top.score, confidence=_confidence(margin), margin=margin,
                   runner_up=runner.id if runner else None, eligible=sum(r.eligible for r in ranked),
                   all_vetoed=not top.eligible, tco_usd=cost["tco_usd"], upfront_usd=cost["upfront_usd"],
                   monthly_usd_first=cost["monthly_usd_first"], monthly_usd_last=cost["monthly_usd_last"],
                   cost_per_request_usd=cost["cost_per_request_usd"],
                   horizon_months=profile.preferences.horizon_months)


# -- reading lines --------------------------------------------------------------------------------------------------

def read_lines(fh: IO[bytes]) -> Iterator[tuple[int, bytes | str]]:
    """(line number, raw bytes) of each non-blank line; a line over MAX_LINE_BYTES is skipped to its end and
    reported as an error string instead of being held in memory."""
    for number in itertools.count(1):
        raw = read_bytes(fh, MAX_LINE_BYTES + 1, line=True)
        if not raw:
            return
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while (rest := read_bytes(fh, MAX_LINE_BYTES, line=True)) and not rest.endswith(b"\n"):
                pass
            yield number, f"longer than {MAX_LINE_BYTES // 1024} KiB; not a profile"
            continue
        if raw.strip():
            yield number, raw


# -- deciding lines -------------------------------------------------------------------------------------------------

_state: dict[str, Any] = {}  # each process's catalog and rules, loaded once


def _setup(catalog_path: str | None, rule_dirs: tuple[str, ...]) -> None:
    _state["catalog"] = load_catalog(catalog_path)
    _state["rules"] = load_rules(*rule_dirs)


def _worker_setup(catalog_path: str | None, rule_dirs: tuple[str, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # and stops them with SIGTERM, which must simply end them
    _setup(catalog_path, rule_dirs)


def decide_line(number: int, raw: bytes | str) -> dict[str, Any]:
    """One input line → its output record (a Summary or a Failure, as a dict)."""
    if isinstance(raw, str):
        return Failure(line=number, error=f"line {number}: {raw}").model_dump()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return Failure(line=number, error=f"line {number}: not UTF-8 text (bad byte at offset {e.start})").model_dump()
    try:
        profile = Profile.model_validate_json(text)
        return summarize(profile, number, catalog=_state["catalog"], rules=_state["rules"]).model_dump()
    except ValidationError as e:
        return Failure(line=number, error=f"line {number}: {describe_validation_error(e, Profile)}").model_dump()
    except AdvisorError as e:  # an unknown GPU or model id named in the profile
        return Failure(line=number, error=f"line {number}: {e}").model_dump()


def _decide_chunk(chunk: list[tuple[int, bytes | str]]) -> list[dict[str, Any]]:
    return [decide_line(n, raw) for n, raw in chunk]


def records(lines: Iterable[tuple[int, bytes | str]], *, catalog_path: str | Path | None = None,
            rule_dirs: tuple[str | Path, ...] = (), jobs: int = 0) -> Iterator[dict[str, Any]]:
    """Decide every line, yielding records in input order. `jobs`: worker processes (0 = one per CPU)."""
    catalog_arg = str(catalog_path) if catalog_path is not None else None
    dirs = tuple(str(d) for d in rule_dirs)
    _setup(catalog_arg, dirs)  # fail fast, in this process, on a broken catalog or rule file
    jobs = jobs or os.cpu_count() or 1
    lines = iter(lines)
    head = list(itertools.islice(lines, FAN_OUT))
    if jobs == 1 or len(head) < FAN_OUT:
        for n, raw in itertools.chain(head, lines):
            yield decide_line(n, raw)
        return
    import multiprocessing

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    chunks = _chunks(itertools.chain(head, lines))
    with multiprocessing.get_context(method).Pool(jobs, _worker_setup, (catalog_arg, dirs)) as pool:
        for done in pool.imap(_decide_chunk, chunks):
            yield from done


def _chunks(lines: Iterator[tuple[int, bytes | str]]) -> Iterator[list[tuple[int, bytes | str]]]:
    while chunk := list(itertools.islice(lines, CHUNK)):
        yield chunk


# -- writing --------------------------------------------------------------------------------------------------------

class Writer:
    """Writes records as JSON lines or CSV rows and keeps the portfolio tally for the closing summary."""

    def __init__(self, out: IO[str], format: str):
        self.out, self.format = out, format
        self.paths: Counter[str] = Counter()
        self.failed = self.decided = 0
        self.tco = self.first_month = 0.0
        if format == "csv":
            self.csv = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
            self.csv.writeheader()

    def write(self, record: dict[str, Any]) -> None:
        if record["ok"]:
            self.decided += 1
            self.paths[record["recommendation"]] += 1
            self.tco += record["tco_usd"]
            self.first_month += record["monthly_usd_first"]
        else:
            self.failed += 1
        if self.format == "csv":
            self.csv.writerow({k: "" if v is None else str(v).lower() if isinstance(v, bool) else v
                               for k, v in record.items()})
        else:
            self.out.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")

    def portfolio(self) -> str:
        from .report import usd

        total = self.decided + self.failed
        head = f"{total:,} profile{'s' if total != 1 else ''}: {self.decided:,} decided, {self.failed:,} failed"
        if not self.decided:
            return head
        paths = ", ".join(f"{path} {n:,}" for path, n in sorted(self.paths.items(), key=lambda x: (-x[1], x[0])))
        return (f"{head}. Recommended: {paths}. Total spend of the recommended paths: {usd(self.tco)} over their "
                f"horizons, {usd(self.first_month)}/month at first.")


def run(source: str, out: IO[str], format: str, *, catalog_path: str | Path | None = None,
        rule_dirs: tuple[str | Path, ...] = (), jobs: int = 0) -> Writer:
    """Decide every line of `source` (a path or '-') into `out`; returns the writer with its tally."""
    from .io import open_input

    writer = Writer(out, format)
    with open_input(source, "JSON-lines") as fh:
        for record in records(read_lines(fh), catalog_path=catalog_path, rule_dirs=rule_dirs, jobs=jobs):
            writer.write(record)
    return writer
