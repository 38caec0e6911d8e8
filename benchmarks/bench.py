"""hemedx benchmark: latency, cold start, walkthrough updates, throughput, memory, engine vs reference.

Writes JSON (``--json FILE``) and prints a short table. ``--quick`` finishes in well under a minute.
The workload is the curated library: every case at every stage (what a walkthrough evaluates), cycled
to the requested count. Numbers are wall-clock on this machine; compare runs on the same machine only.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the reference evaluator lives with the tests

from hemedx import get_engine, load_pack, rank_case  # noqa: E402
from hemedx.cases.library import DEMO_CASE, library_files, load_library  # noqa: E402
from hemedx.cases.model import Snapshot  # noqa: E402
from hemedx.cli.jsonout import dumps as json_dumps  # noqa: E402
from hemedx.rules.kb import freeze_long_lived  # noqa: E402

from support.reference_evaluator import Reference  # noqa: E402

TARGETS = {  # issue 15
    "rank_p50_ms": 0.4,
    "rank_p99_ms": 1.0,
    "rank_json_p50_ms": 2.0,
    "cold_rank_ms": 220.0,
    "cold_rules_check_ms": 400.0,
    "generated_cases_per_s": 2000.0,
    "evaluate_cases_per_s": 3000.0,
    "engine_reference_ratio": 1.0,
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def workload() -> tuple[list, list[Snapshot]]:
    pack = load_pack()
    cases = load_library(pack)
    snaps = [c.snapshot(i) for c in cases for i in range(len(c.stages))]
    return cases, snaps


def timed(fn, items, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        for item in items:
            start = time.perf_counter()
            fn(item)
            out.append((time.perf_counter() - start) * 1000)
    return out


def _cli_env() -> dict[str, str]:
    """The environment of a user's second run: Python may keep the compiled bytecode of hemedx.

    With PYTHONDONTWRITEBYTECODE set (as in some shells), every "cold" run would also compile every
    hemedx module from source (~50-80 ms), which no installed hemedx does after its first run.
    """
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def cold_command(args: list[str], runs: int) -> list[float]:
    """Wall-clock ms of ``hemedx ARGS`` in new processes, after one untimed run (bytecode, pack cache)."""
    exe = Path(sys.executable).parent / "hemedx"
    env = _cli_env()
    subprocess.run([str(exe), *args], check=True, capture_output=True, env=env)
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([str(exe), *args], check=True, capture_output=True, env=env)
        out.append((time.perf_counter() - start) * 1000)
    return out


def cold_rank(runs: int) -> list[float]:
    case = next(p for p in library_files() if p.stem == DEMO_CASE)
    return cold_command(["rank", str(case), "--json"], runs)


def generated_per_s(n: int) -> tuple[float, float]:
    """``hemedx evaluate --generated N --json`` end to end (every core): cases per second, top-1."""
    exe = Path(sys.executable).parent / "hemedx"
    start = time.perf_counter()
    command = [str(exe), "evaluate", "--generated", str(n), "--json"]
    done = subprocess.run(command, check=True, capture_output=True, env=_cli_env())
    elapsed = time.perf_counter() - start
    return n / elapsed, json.loads(done.stdout)["top1"]


_WORKER = None


def _init() -> None:
    global _WORKER
    freeze_long_lived()  # as evaluate's workers do
    _WORKER = get_engine(load_pack())


def _rank_chunk(chunk: list[Snapshot]) -> list[tuple[str, float]]:
    results = []
    for snap in chunk:
        top = _WORKER.rank(snap).differential[0]
        results.append((top.id, round(top.probability, 9)))
    return results


def throughput(snaps: list[Snapshot], n: int, jobs: int) -> tuple[float, bool]:
    """Cases per second across ``jobs`` processes, and whether the result equals a serial run."""
    items = [snaps[i % len(snaps)] for i in range(n)]
    chunks = [items[i : i + 250] for i in range(0, n, 250)]
    ctx = mp.get_context("fork")
    start = time.perf_counter()
    with ctx.Pool(jobs, initializer=_init) as pool:
        parallel = [r for part in pool.map(_rank_chunk, chunks) for r in part]
    elapsed = time.perf_counter() - start
    _init()
    serial = [r for chunk in chunks[:8] for r in _rank_chunk(chunk)]
    return n / elapsed, parallel[: len(serial)] == serial


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller counts (under a minute)")
    parser.add_argument("--json", dest="json_out", type=Path, help="write figures to this file")
    args = parser.parse_args()
    repeat, cold_runs, n_eval = (3, 5, 4000) if args.quick else (10, 15, 10_000)

    freeze_long_lived()  # as every hemedx process does (the command line, evaluate's workers, the server)
    cases, snaps = workload()
    pack = load_pack()
    engine = get_engine(pack)
    for snap in snaps:  # warm-up: compile, register, first-call caches
        engine.rank(snap)
    rank_ms = timed(engine.rank, snaps, repeat)
    infer_ms = timed(engine.infer, snaps, repeat)
    report_ms = timed(lambda c: rank_case(c, pack), cases, repeat)
    json_ms = timed(lambda c: json_dumps(rank_case(c, pack)), cases, repeat)  # the writer rank --json uses
    stage_ms = timed(lambda c: [rank_case(c, pack, upto=i) for i in range(len(c.stages))], cases, 1)
    per_stage = [t / len(c.stages) for t, c in zip(stage_ms, cases, strict=True)]
    reference = Reference(pack)
    ref_ms = timed(reference.evaluate, snaps, repeat)
    cold_ms = cold_rank(cold_runs)
    check_ms = cold_command(["rules", "check"], cold_runs)
    generated_s, generated_top1 = generated_per_s(10_000)
    jobs = os.cpu_count() or 1
    per_s, identical = throughput(snaps, n_eval, jobs)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {
        "rank_p50_ms": round(statistics.median(rank_ms), 3),
        "rank_p99_ms": round(percentile(rank_ms, 0.99), 3),
        "infer_p50_ms": round(statistics.median(infer_ms), 3),
        "rank_report_p50_ms": round(statistics.median(report_ms), 3),
        "rank_json_p50_ms": round(statistics.median(json_ms), 3),
        "cold_rank_ms": round(statistics.median(cold_ms), 1),
        "cold_rules_check_ms": round(statistics.median(check_ms), 1),
        "generated_cases_per_s": round(generated_s, 1),
        "generated_cases": 10_000,
        "generated_top1": generated_top1,
        "walkthrough_stage_ms": round(statistics.median(per_stage), 3),
        "evaluate_cases_per_s": round(per_s, 1),
        "evaluate_cases": n_eval,
        "evaluate_jobs": jobs,
        "parallel_equals_serial": identical,
        "engine_reference_ratio": round(statistics.median(rank_ms) / statistics.median(ref_ms), 2),
        "reference_p50_ms": round(statistics.median(ref_ms), 3),
        "peak_rss_mb": round(rss, 1),
        "rules": len(pack.rules),
        "compiled_variants": len(engine.compiled.variants),
        "workload_snapshots": len(snaps),
        "quick": args.quick,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {jobs} cores",
        "cores": jobs,
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(figures, indent=2) + "\n")
    width = max(map(len, figures))
    for key, value in figures.items():
        target = TARGETS.get(key)
        mark = ""
        if target is not None:
            higher = key.endswith("_per_s")
            ok = value >= target if higher else value <= target
            sign = "≥" if higher else "≤"
            mark = f"  (target {sign} {target:g}: {'met' if ok else 'NOT met'})"
        print(f"{key:<{width}}  {value}{mark}")


if __name__ == "__main__":
    main()
