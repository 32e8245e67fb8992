"""Benchmarks: `python benchmarks/run.py` from the repository root (advisor installed). Prints one table; asserts
nothing. Targets (DESIGN §10, a 2-core machine) are printed beside the figures.

Whole-process figures are medians of repeated runs, with the peak memory (max RSS) of the slowest-memory run.
Each command first runs once untimed with bytecode writing allowed, so the timed runs find advisor's modules
compiled, as every installed copy has them after its first run (even where PYTHONDONTWRITEBYTECODE is set, as on
some CI images; without it each run would compile advisor's source again). In-process figures run after a warm-up,
the way a notebook or `advisor batch` sees them once loaded.
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


def process(args: list[str], runs: int = 21) -> tuple[float, float]:
    """(median wall seconds, peak RSS in MiB) of running `args` as a fresh process."""
    compiling = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(args, env=compiling, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times, peak = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        times.append(time.perf_counter() - start)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"benchmark command failed: {' '.join(args)}")
        peak = max(peak, usage.ru_maxrss)
    return statistics.median(times), peak / 1024


def main() -> None:
    from advisor.sensitivity import _Runs, analyse, monte_carlo, ranges

    from advisor.batch import records
    from advisor.catalog import load_catalog
    from advisor.examples import generate
    from advisor.io import load_profile
    from advisor.rules import load_rules

    rows = []
    base, _ = process([sys.executable, "-c", "pass"])
    rows.append(("python -c pass (process, median)", f"{base * 1000:.0f} ms", "", ""))
    for label, args, target in (
        ("advisor decide EXAMPLE -f json (process, median)", ["decide", str(EXAMPLE), "-f", "json"], "≤ 500 ms"),
        ("advisor decide EXAMPLE, the memo (process, median)", ["decide", str(EXAMPLE), "--date", "2026-01-01"],
         "≤ 500 ms"),
        ("advisor sensitivity EXAMPLE, 10,000 samples (process)", ["sensitivity", str(EXAMPLE)], "≤ 2 s"),
    ):
        t, mib = process(ADVISOR + args, runs=5 if "sensitivity" in args else 21)
        rows.append((label, f"{t * 1000:.0f} ms", f"{mib:.0f} MiB", target))

    profiles = generate(10_000, seed=1)
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        fh.write("".join(json.dumps(p) + "\n" for p in profiles))
    try:
        for jobs in (1, 0):
            t, mib = process([*ADVISOR, "batch", fh.name, "-j", str(jobs)], runs=1)
            who = "1 process" if jobs == 1 else f"{os.cpu_count()} workers"
            rows.append((f"advisor batch, 10,000 generated profiles, {who} (process)",
                         f"{10_000 / t:,.0f} profiles/s", f"{mib:.0f} MiB",
                         "" if jobs == 1 else "≥ 2,000 profiles/s (advisor batch, default --jobs)"))
    finally:
        os.unlink(fh.name)
    lines = [(i, json.dumps(p).encode()) for i, p in enumerate(profiles[:3000], 1)]
    list(records(lines[:50], jobs=1))  # warm
    start = time.perf_counter()
    list(records(lines, jobs=1))
    rows.append(("batch scoring in process, once loaded (1 core)",
                 f"{len(lines) / (time.perf_counter() - start):,.0f} profiles/s", "", ""))

    profile = load_profile(EXAMPLE)
    catalog, rules = load_catalog(), load_rules()
    runs = _Runs(profile, catalog, rules)
    inputs = ranges(profile, catalog)
    monte_carlo(profile, inputs, 100, 0, runs)  # warm: numpy, vector clauses
    times = []
    for seed in range(5):
        start = time.perf_counter()
        monte_carlo(profile, inputs, 10_000, seed, runs)
        times.append(time.perf_counter() - start)
    rows.append(("Monte Carlo, 10,000 samples (in process, median)", f"{statistics.median(times) * 1000:.0f} ms", "",
                 "≤ 2 s"))
    start = time.perf_counter()
    analyse(profile)
    rows.append(("full sensitivity: MC + tornado + flip search (in process)",
                 f"{(time.perf_counter() - start) * 1000:.0f} ms", "", ""))

    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'figure':>18}  {'peak RSS':>8}  target")
    for name, figure, memory, target in rows:
        print(f"{name:<{width}}  {figure:>18}  {memory:>8}  {target}")


if __name__ == "__main__":
    main()
