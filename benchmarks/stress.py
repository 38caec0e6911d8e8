"""Stress: many evaluations through one process; RSS must stay flat and results must not drift.

Usage: python benchmarks/stress.py [--cases 1000000] [--json FILE]
Every case of the library at every stage is evaluated in turn; each result is compared with the first
evaluation of the same snapshot (no leakage between sessions), and RSS is sampled as it goes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from hemedx import get_engine, load_pack
from hemedx.cases.library import load_library


def rss_mb() -> float:
    """Current resident set size (Linux /proc), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--json", dest="json_out", type=Path)
    args = parser.parse_args()
    pack = load_pack()
    engine = get_engine(pack)
    snaps = [c.snapshot(i) for c in load_library(pack) for i in range(len(c.stages))]
    expected = [engine.rank(s) for s in snaps]
    for s in snaps * 20:  # warm-up so caches and the allocator settle before the baseline
        engine.rank(s)
    baseline = rss_mb()
    samples: list[dict[str, float]] = []
    start = time.perf_counter()
    step = max(args.cases // 20, 1)

    def figures(done: int) -> dict:
        final = samples[-1]["rss_mb"] if samples else baseline
        return {
            "cases": args.cases,
            "evaluated": done,
            "complete": done == args.cases,
            "baseline_rss_mb": round(baseline, 1),
            "final_rss_mb": final,
            "rss_growth_mb": round(final - baseline, 1),
            "seconds": round(time.perf_counter() - start, 1),
            "samples": samples,
        }

    def record(done: int) -> None:  # after every sample, so a run cut short still leaves its figures
        if args.json_out:
            args.json_out.parent.mkdir(parents=True, exist_ok=True)
            tmp = args.json_out.with_suffix(".tmp")
            tmp.write_text(json.dumps(figures(done), indent=2) + "\n")
            tmp.replace(args.json_out)

    for i in range(args.cases):
        k = i % len(snaps)
        if engine.rank(snaps[k]) != expected[k]:
            raise SystemExit(f"result drifted at evaluation {i} ({snaps[k]})")
        if (i + 1) % step == 0:
            samples.append(
                {"cases": i + 1, "rss_mb": round(rss_mb(), 1), "s": round(time.perf_counter() - start, 1)}
            )
            print(samples[-1], flush=True)
            record(i + 1)
    record(args.cases)
    print(json.dumps({k: v for k, v in figures(args.cases).items() if k != "samples"}))


if __name__ == "__main__":
    main()
