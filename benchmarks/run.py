"""Benchmarks: run `python benchmarks/run.py` from the repository root (advisor installed). Prints figures; asserts
nothing. Targets (DESIGN §10, 2-core machine) are printed beside the figures for comparison."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "support-copilot.json"


def process_median(args: list[str], runs: int = 9) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def in_process_rate(fn, seconds: float = 2.0) -> float:
    fn()  # warm: imports, catalog, price look-ups
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def main() -> None:
    from advisor.costs import CostModel
    from advisor.engine import decide
    from advisor.io import load_profile

    profile = load_profile(EXAMPLE)
    rows = [
        ("python -c pass (process, median)", f"{process_median([sys.executable, '-c', 'pass']) * 1000:.0f} ms", ""),
        ("advisor costs EXAMPLE -f json (process, median)",
         f"{process_median([sys.executable, '-m', 'advisor', 'costs', str(EXAMPLE), '-f', 'json']) * 1000:.0f} ms",
         "≤ 500 ms"),
        ("advisor decide EXAMPLE -f json (process, median)",
         f"{process_median([sys.executable, '-m', 'advisor', 'decide', str(EXAMPLE), '-f', 'json']) * 1000:.0f} ms",
         "≤ 500 ms"),
        ("advisor decide EXAMPLE (memo with flip search; process, median)",
         f"{process_median([sys.executable, '-m', 'advisor', 'decide', str(EXAMPLE)]) * 1000:.0f} ms", "≤ 500 ms"),
        ("price all 20 candidates of a profile (in process)",
         f"{in_process_rate(lambda: CostModel(profile).price_all()):,.0f} profiles/s", ""),
        ("price + score + rank all 20 candidates (in process)",
         f"{in_process_rate(lambda: decide(profile)):,.0f} profiles/s", "≥ 2,000 profiles/s"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'figure':>18}  target")
    for name, figure, target in rows:
        print(f"{name:<{width}}  {figure:>18}  {target}")


if __name__ == "__main__":
    main()
