"""`advisor batch`: one profile per JSON line in, one decision summary per line out, in input order.

A bad line becomes an error record naming its line number and the rest carry on. Lines are decided in chunks, each
chunk's valid profiles together as one frame — the same run, column by column, that decides one profile — so each
summary is exactly what `Advisor.evaluate(profile).summary` gives (the tests check generated profiles). Large inputs
fan out over worker processes; small ones (fewer than `FAN_OUT` lines) run in-process, where starting workers would
cost more than it saves.
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

from pydantic import ValidationError

from .decision import Failure, Summary
from .errors import AdvisorError
from .evaluation import Advisor
from .io import describe_validation_error, read_bytes
from .schema import Profile

MAX_LINE_BYTES = 1024 * 1024  # a profile is a few KB
FAN_OUT = 512  # lines read before deciding to start worker processes
CHUNK = 32  # lines decided together (one frame), and per task sent to a worker

COLUMNS = (*tuple(Summary.model_fields), "error")


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

def _profile(advisor: Advisor, number: int, raw: bytes | str) -> Profile | Failure:
    if isinstance(raw, str):
        return Failure(line=number, error=f"line {number}: {raw}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return Failure(line=number, error=f"line {number}: not UTF-8 text (bad byte at offset {e.start})")
    try:
        profile = Profile.model_validate_json(text)
        advisor.check(profile)
    except ValidationError as e:
        return Failure(line=number, error=f"line {number}: {describe_validation_error(e, Profile)}")
    except AdvisorError as e:  # an unknown GPU or model id named in the profile
        return Failure(line=number, error=f"line {number}: {e}")
    return profile


def decide_lines(advisor: Advisor, chunk: list[tuple[int, bytes | str]]) -> list[dict[str, Any]]:
    """Each (line number, raw line) → its output record (a Summary or a Failure, as a dict), in order; the valid
    profiles are decided together."""
    parsed = [(n, _profile(advisor, n, raw)) for n, raw in chunk]
    good = [(n, p) for n, p in parsed if isinstance(p, Profile)]
    summaries = iter(advisor.summaries([p for _, p in good], [n for n, _ in good]) if good else [])
    return [next(summaries).model_dump() if isinstance(p, Profile) else p.model_dump() for _, p in parsed]


# A worker process's Advisor, made once by its initializer (multiprocessing's way to give a worker its state).
_worker: list[Advisor] = []


def _start_worker(catalog_path: str | None, rule_dirs: tuple[str, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # and stops them with SIGTERM, which must simply end them
    _worker.append(_loaded(catalog_path, rule_dirs))


def _in_worker(chunk: list[tuple[int, bytes | str]]) -> list[dict[str, Any]]:
    return decide_lines(_worker[0], chunk)


def _loaded(catalog_path: str | None, rule_dirs: tuple[str, ...]) -> Advisor:
    advisor = Advisor(catalog_path, rule_dirs)
    advisor.catalog, advisor.rules  # noqa: B018 - load now: a broken file fails before any line is read
    return advisor


def records(lines: Iterable[tuple[int, bytes | str]], *, catalog_path: str | Path | None = None,
            rule_dirs: tuple[str | Path, ...] = (), jobs: int = 0, fan_out: int = FAN_OUT,
            chunk_size: int = CHUNK) -> Iterator[dict[str, Any]]:
    """Decide every line, yielding records in input order. `jobs`: worker processes (0 = one per CPU), started
    once `fan_out` lines have been read; `chunk_size`: lines decided together (one frame, one worker task)."""
    catalog_arg = str(catalog_path) if catalog_path is not None else None
    dirs = tuple(str(d) for d in rule_dirs)
    advisor = _loaded(catalog_arg, dirs)  # fail fast, in this process, on a broken catalog or rule file
    jobs = jobs or os.cpu_count() or 1
    lines = iter(lines)
    head = list(itertools.islice(lines, fan_out))
    if jobs == 1 or len(head) < fan_out:
        for chunk in _chunks(itertools.chain(head, lines), chunk_size):
            yield from decide_lines(advisor, chunk)
        return
    import multiprocessing

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    chunks = _chunks(itertools.chain(head, lines), chunk_size)
    with multiprocessing.get_context(method).Pool(jobs, _start_worker, (catalog_arg, dirs)) as pool:
        for done in pool.imap(_in_worker, chunks):
            yield from done


def _chunks(lines: Iterator[tuple[int, bytes | str]], size: int) -> Iterator[list[tuple[int, bytes | str]]]:
    while chunk := list(itertools.islice(lines, size)):
        yield chunk


# -- writing --------------------------------------------------------------------------------------------------------

class Writer:
    """Writes records as JSON lines or CSV rows and keeps the portfolio tally for the closing summary."""

    def __init__(self, out: IO[str], format: str):
        self.out, self.format = out, format
        self.paths: Counter[str] = Counter()
        self.confidence: Counter[str] = Counter()
        self.failed = self.decided = self.not_viable = 0
        if format == "csv":
            # Every text cell quoted (a name holding a line break or a bare carriage return stays one cell).
            self.csv = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
            self.csv.writeheader()

    def write(self, record: dict[str, Any]) -> None:
        if record["ok"]:
            self.decided += 1
            self.paths[record["recommendation"]] += 1
            self.confidence[record["confidence"]] += 1
            self.not_viable += not record["viable"]
        else:
            self.failed += 1
        if self.format == "csv":
            self.csv.writerow({k: _cell(v) for k, v in record.items()})
        else:
            self.out.write(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")

    def portfolio(self) -> str:
        """How many lines were decided, and the decisions counted by path and confidence (each profile's money is
        its own: unrelated projects' costs are not added up)."""
        total = self.decided + self.failed
        head = f"{total:,} profile{'s' if total != 1 else ''}: {self.decided:,} decided, {self.failed:,} failed"
        if not self.decided:
            return head
        paths = ", ".join(f"{path} {n:,}" for path, n in sorted(self.paths.items(), key=lambda x: (-x[1], x[0])))
        sure = ", ".join(f"{level} {self.confidence[level]:,}" for level in ("high", "medium", "low")
                         if self.confidence[level])
        none = f"; no path meets every must-have for {self.not_viable:,}" if self.not_viable else ""
        return f"{head}. Recommended: {paths}. Confidence: {sure}{none}."


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection: a cell a spreadsheet would evaluate


def _cell(value: Any) -> Any:
    """A value as a CSV cell: numbers as numbers; text (and yes/no) as text, neutralised with a leading apostrophe
    where a spreadsheet would read it as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def run(source: str, out: IO[str], format: str, *, catalog_path: str | Path | None = None,
        rule_dirs: tuple[str | Path, ...] = (), jobs: int = 0) -> Writer:
    """Decide every line of `source` (a path or '-') into `out`; returns the writer with its tally."""
    from .io import open_input

    writer = Writer(out, format)
    with open_input(source, "JSON-lines") as fh:
        for record in records(read_lines(fh), catalog_path=catalog_path, rule_dirs=rule_dirs, jobs=jobs):
            writer.write(record)
    return writer
