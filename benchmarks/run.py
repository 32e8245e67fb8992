"""Benchmarks: `python benchmarks/run.py` from the repository root (advisor installed). Prints one table; asserts
nothing.

Whole commands are timed as ratios against `benchmarks/floor.py`, a minimal typer + pydantic command line (the floor
of this stack), run alternately with them in the same run: the machine's absolute speed drifts, a ratio measured
pair by pair does not. Each command first runs once untimed with bytecode writing allowed, so the timed runs find
the modules compiled, as any installed copy has them after its first run. Rates (batch) and the in-process figures
are absolute, on the machine at hand; the targets come from DESIGN §10 and the issues.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "support-copilot.json"
ADVISOR = [sys.executable, "-m", "advisor"]
FLOOR = [sys.executable, str(ROOT / "benchmarks" / "floor.py"), "decide", str(EXAMPLE)]


def once(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one run of `args` as a fresh process."""
    start = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(args)}")
    return elapsed, usage.ru_maxrss / 1024


def warm(args: list[str]) -> None:
    compiling = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(args, env=compiling, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)


def paired(args: list[str], pairs: int = 21) -> tuple[float, float, float, float]:
    """(median ratio to the floor, median seconds, median floor seconds, peak MiB), alternating the two."""
    warm(args)
    warm(FLOOR)
    ratios, mine, floors, peak = [], [], [], 0.0
    for _ in range(pairs):
        a, mib = once(args)
        b, _ = once(FLOOR)
        ratios.append(a / b)
        mine.append(a)
        floors.append(b)
        peak = max(peak, mib)
    return statistics.median(ratios), statistics.median(mine), statistics.median(floors), peak


def main() -> None:
    from advisor.evaluation import Advisor
    from advisor.examples import generate

    rows = []
    ratio, seconds, floor, mib = paired([sys.executable, str(ROOT / "benchmarks" / "loaded.py"), str(EXAMPLE)])
    rows.append(("advisor loaded, profile validated, nothing decided", f"{ratio:.2f}× ({seconds * 1000:.0f} ms; "
                 f"floor {floor * 1000:.0f} ms)", f"{mib:.0f} MiB", "(start-up alone)"))
    for label, args, target in (
        ("advisor decide EXAMPLE -f json", ["decide", str(EXAMPLE), "-f", "json"], "≤ 1.3× the floor"),
        ("advisor decide EXAMPLE (the memo)", ["decide", str(EXAMPLE), "--date", "2026-01-01"], "≤ 1.6× the floor"),
        ("advisor sensitivity EXAMPLE (10,000 samples)", ["sensitivity", str(EXAMPLE)], "≤ 1 s"),
    ):
        ratio, seconds, floor, mib = paired(ADVISOR + args, pairs=7 if "sensitivity" in args else 21)
        rows.append((label, f"{ratio:.2f}× ({seconds * 1000:.0f} ms; floor {floor * 1000:.0f} ms)",
                     f"{mib:.0f} MiB", target))

    count = 1_000  # every decision runs its own Monte Carlo win share: a rate, measured on enough lines to fan out
    profiles = generate(count, seed=1)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        fh.write("".join(json.dumps(p) + "\n" for p in profiles))
    try:
        warm([*ADVISOR, "decide", str(EXAMPLE), "-f", "json"])
        for jobs in (1, 0):
            t, mib = once([*ADVISOR, "batch", fh.name, "-j", str(jobs)])
            who = "1 process" if jobs == 1 else f"{os.cpu_count()} workers (default)"
            rows.append((f"advisor batch, {count:,} generated profiles, {who}", f"{count / t:,.0f} profiles/s",
                         f"{mib:.0f} MiB", "≥ 2,000 profiles/s" if jobs == 0 else ""))
        # DESIGN §10's bar is the rate "once loaded": the same lines decided in this process (catalog and rules
        # already loaded, worker processes started as the command starts them), start-up excluded.
        from advisor.batch import read_lines, records

        for jobs in (1, 0):
            with open(fh.name, "rb") as lines:
                start = time.perf_counter()
                decided = sum(1 for _ in records(read_lines(lines), jobs=jobs))
                rate = decided / (time.perf_counter() - start)
            who = "1 process" if jobs == 1 else f"{os.cpu_count()} workers"
            rows.append((f"batch once loaded (in process), {who}", f"{rate:,.0f} profiles/s", "",
                         "≥ 2,000 profiles/s" if jobs == 0 else ""))
    finally:
        os.unlink(fh.name)

    ev = Advisor().evaluate(EXAMPLE)
    ev.sensitivity(samples=100)  # warm
    times = []
    for seed in range(5):
        start = time.perf_counter()
        ev.sensitivity(samples=10_000, seed=seed)
        times.append(time.perf_counter() - start)
    rows.append(("sensitivity, 10,000 samples (in process, median)", f"{statistics.median(times) * 1000:.0f} ms", "",
                 "≤ 1 s"))

    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'figure':<42}  {'peak RSS':>8}  target")
    for name, figure, memory, target in rows:
        print(f"{name:<{width}}  {figure:<42}  {memory:>8}  {target}")


if __name__ == "__main__":
    main()
