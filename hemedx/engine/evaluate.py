"""Batch evaluation: run many cases through the engine and measure how often the answer key comes first.

Pure domain code (no printing, no files): the CLI passes cases in and renders the summary. Cases run in
worker processes, each with its own engine (durable_rules state must never cross a process boundary, so
workers are spawned, or forked only from a process that holds none yet, and build their engine in the
pool initializer). Results come back in
input order and every metric is computed in that order, so a parallel run gives exactly the numbers of a
serial one.
"""

from __future__ import annotations

import gc
import math
import multiprocessing
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hemedx.cases.generator import Distributions, Plan, generate_case, to_case
from hemedx.cases.model import Case
from hemedx.engine.engine import get_engine
from hemedx.engine.ranking import Ranking
from hemedx.engine.report import pack_stamp
from hemedx.engine.shown import rounded
from hemedx.rules.kb import derived_any, freeze_long_lived
from hemedx.rules.model import Pack

NORMAL = "normal"  # the expected label of a case without an answer key
NONE = "none"  # the predicted label when nothing in the differential is in play


@dataclass(frozen=True)
class GeneratedItem:
    """A generated case to build inside the worker (so generation runs in parallel too)."""

    plan: Plan
    seed: int


Item = Case | GeneratedItem


@dataclass(frozen=True)
class CaseResult:
    """One case's outcome: the ranked differential and whether it matched the answer key."""

    case: str
    expected: str | None
    expected_subtype: str | None
    supported: bool
    ranking: tuple[tuple[str, str | None, float], ...]  # (diagnosis, subtype, probability), best first
    top1: bool
    top3: bool
    subtype_correct: bool | None  # None when the answer has no subtype
    tags: tuple[str, ...]
    why: str | None  # for a miss: what pulled the ranking away from the answer


# ---------------------------------------------------------------------------------------------- one case


def evaluate_case(case: Case, pack: Pack) -> CaseResult:
    """Rank one case and compare it with its answer key (no answer: correct when nothing fits)."""
    ranking = get_engine(pack).rank(case.snapshot())
    expected = case.answer.diagnosis if case.answer else None
    expected_subtype = case.answer.subtype if case.answer else None
    order = [d.id for d in ranking.differential]
    if expected is None:
        top1 = top3 = not ranking.supported
    else:
        # an answer key of `outside` is right when the open-world hypothesis leads (never "supported")
        counts = ranking.supported or expected == ranking.outside_id
        top1 = counts and order[0] == expected
        top3 = counts and expected in order[:3]
    subtype_correct = None
    if expected_subtype is not None:
        subtype_correct = top1 and ranking.differential[0].subtype == expected_subtype
    why = None if top1 else explain_miss(ranking, expected, case.tags, pack.kb.labels)
    if top1 and subtype_correct is False:
        kb = pack.kb
        got = kb.subtype_label(expected or "", ranking.differential[0].subtype) or "not decided"
        why = f"subtype {got} instead of {kb.subtype_label(expected or '', expected_subtype)}"
    return CaseResult(
        case=case.id,
        expected=expected,
        expected_subtype=expected_subtype,
        supported=ranking.supported,
        ranking=tuple((d.id, d.subtype, d.probability) for d in ranking.differential),
        top1=top1,
        top3=top3,
        subtype_correct=subtype_correct,
        tags=case.tags,
        why=why,
    )


def scored(case: Case) -> bool:
    """Whether a case has something to score: an answer key, or the tag ``normal`` (nothing should fit).

    A case without a key for another reason (``incomplete``: the work-up is unfinished) is shown, not
    scored, exactly as ``rules test`` skips it.
    """
    return case.answer is not None or "normal" in case.tags


def explain_miss(
    ranking: Ranking, expected: str | None, tags: Sequence[str] = (), labels: dict[str, str] | None = None
) -> str:
    """Say in one line why the top diagnosis beat the answer: criteria, the findings that tipped it, gaps.

    Diagnoses and findings by their labels (``labels``: finding ids to labels), as a teacher reads them.
    """
    labels = labels or {}
    dx = {d.id: d.label for d in ranking.differential}
    notes = [
        t for t in tags if t.startswith("decoy") or t in ("no-marrow", "incomplete", "low-reticulocytes")
    ]
    suffix = f" [case: {', '.join(notes)}]" if notes else ""
    top = ranking.differential[0]
    if expected is None:
        reason = (
            "no answer key because the work-up is unfinished (tagged incomplete), so it is scored as"
            if "incomplete" in tags
            else "no answer key, so"
        )
        in_play = "; ".join(
            f"{', '.join(labels.get(f, f) for f in d.cardinal_present)} put {d.label} in play"
            f" ({d.probability:.1%})"
            for d in ranking.differential
            if d.in_play
        )
        return f"{reason} nothing should fit; but {in_play}{suffix}"
    if not ranking.supported:
        return (
            f"nothing in the differential is in play (no cardinal finding of {dx.get(expected, expected)}"
            f" present){suffix}"
        )
    exp = next(d for d in ranking.differential if d.id == expected)
    rank_no = [d.id for d in ranking.differential].index(expected) + 1
    parts = [f"{top.label} {top.probability:.1%} over {exp.label} {exp.probability:.1%} (rank {rank_no})"]
    yes = {True: "yes", False: "no"}
    parts.append(f"criteria met: {top.label} {yes[top.criteria_met]}, {exp.label} {yes[exp.criteria_met]}")
    if not exp.in_play:
        parts.append(f"{exp.label} not in play (no cardinal finding)")
    tipping = _tipping_findings(top, exp, labels)
    if tipping:
        parts.append("tipped by " + ", ".join(tipping))
    prior_ratio = top.prior / exp.prior if exp.prior else math.inf
    if prior_ratio >= 2:
        parts.append(f"prior ×{prior_ratio:.1f}")
    if exp.expected_unknown:
        parts.append("not known: " + ", ".join(labels.get(f, f) for f in exp.expected_unknown[:4]))
    return "; ".join(parts) + suffix


def _tipping_findings(top: Any, exp: Any, labels: dict[str, str], limit: int = 3) -> list[str]:
    """Findings whose factors favour ``top`` over ``exp`` most (log ratio), as 'finding state ×ratio'."""

    def factors(ranked: Any) -> dict[tuple[str, str], float]:
        return {(e.finding, e.state): e.factor for e in ranked.evidence if e.counted and e.factor > 0}

    f_top, f_exp = factors(top), factors(exp)
    shifts = []
    for key in sorted(set(f_top) | set(f_exp)):
        ratio = f_top.get(key, 1.0) / f_exp.get(key, 1.0)
        if ratio > 1.5:
            shifts.append((ratio, key))
    shifts.sort(key=lambda item: (-item[0], item[1]))
    return [f"{labels.get(f, f)} {state} ×{ratio:.3g}" for ratio, (f, state) in shifts[:limit]]


# --------------------------------------------------------------------------------------------- many cases

_WORKER: dict[str, Any] = {}


def _init_worker(inbox: Any) -> None:
    """Pool initializer: this process's own pack copy and engine (compiled once, never shared).

    The pack and distributions come pickled through ``inbox`` (a queue the parent fills in the
    background), not as initializer arguments: those are written into each new process's pipe before the
    next process is started, so every worker waited for the one before it to import hemedx.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle, not each worker's
    freeze_long_lived()  # a worker only evaluates: its pack and engine need never be scanned by the GC
    pack, dist = pickle.loads(inbox.get())
    _WORKER["pack"] = pack
    _WORKER["dist"] = dist
    get_engine(pack)


def _run_chunk(chunk: Sequence[Item]) -> list[CaseResult]:
    """Evaluate a run of consecutive items (one message each way per chunk, not per case)."""
    pack: Pack = _WORKER["pack"]
    dist = _WORKER["dist"]
    gc.disable()  # a case leaves few cycles: collect once a chunk (its garbage is bounded), not every 700
    try:
        return [evaluate_case(_materialise(item, pack, dist), pack) for item in chunk]
    finally:
        gc.enable()


def _materialise(item: Item, pack: Pack, dist: Distributions | None) -> Case:
    if isinstance(item, Case):
        return item
    if dist is None:
        raise ValueError("generated items need the generator's distributions")
    return to_case(generate_case(dist, pack, item.plan, item.seed), pack)


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while workers start (only the main thread may change signal handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _chunks(items: Sequence[Item], jobs: int) -> list[Sequence[Item]]:
    """Consecutive runs of items, large first and smaller towards the end ("guided" scheduling).

    Each chunk is a fraction of what is left, so there are few messages (every result message also wakes
    the pool's worker-handler thread in the parent), yet the last chunks are small and no worker is left
    computing a big one alone at the end.
    """
    out = []
    start = 0
    floor = max(1, min(GUIDED_MIN, len(items) // (jobs * 4)))  # a short run still reaches every worker
    while start < len(items):
        size = max(floor, min(GUIDED_MAX, (len(items) - start) // (jobs * 3)))
        out.append(items[start : start + size])
        start += size
    return out


GUIDED_MIN, GUIDED_MAX = 8, 400  # cases per chunk: ~6 ms and ~0.3 s of a worker's time


class Workers:
    """Worker processes for :func:`evaluate_cases`, which can start before the pack is even loaded.

    Spawned workers take ~0.2 s each to import hemedx; started first, they do it while the caller loads
    the pack and plans the cases (forked ones need not import). They learn the pack when :meth:`run` is
    called, and serve one run.
    """

    def __init__(self, jobs: int, fork: bool = False) -> None:
        """Start ``jobs`` workers; ``fork``: as copies of this process, when that is safe.

        A forked worker imports nothing, but is made only on Linux, while this process holds no durable
        state and runs no other thread (as when a command starts its workers before it loads a pack);
        otherwise, and by default, workers are spawned.
        """
        # never fork a process that may hold durable state (or threads, whose locks a fork copies)
        forkable = fork and sys.platform == "linux" and threading.active_count() == 1
        forkable = forkable and not derived_any("durable")
        context = multiprocessing.get_context("fork" if forkable else "spawn")
        self.start_method = context.get_start_method()
        self.jobs = jobs
        self._inbox = context.Queue()
        self._inbox.cancel_join_thread()  # never wait at exit to hand the pack to a worker that is gone
        self._used = False
        with _sigint_ignored():  # the workers inherit the ignore, so Ctrl-C never traces inside them
            self._pool = context.Pool(jobs, initializer=_init_worker, initargs=(self._inbox,))

    def run(
        self,
        items: Sequence[Item],
        pack: Pack,
        dist: Distributions | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[CaseResult]:
        """Evaluate every item in the workers, in order, in chunks (one message each way per chunk)."""
        if self._used:
            raise RuntimeError("a Workers pool serves one run: its workers hold that run's pack")
        self._used = True
        blob = pickle.dumps((pack, dist), protocol=pickle.HIGHEST_PROTOCOL)
        for _ in range(self.jobs):
            self._inbox.put(blob)  # written by the queue's thread, while the workers may still import
        results: list[CaseResult] = []
        for part in self._pool.imap(_run_chunk, _chunks(items, self.jobs)):
            results.extend(part)
            if progress:
                progress(len(part))
        return results

    def close(self) -> None:
        """Stop the workers (at once: they only hold results already sent)."""
        self._pool.terminate()
        self._inbox.close()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def evaluate_cases(
    items: Sequence[Item],
    pack: Pack,
    dist: Distributions | None = None,
    jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
    workers: Workers | None = None,
) -> list[CaseResult]:
    """Evaluate every item, in order. ``jobs`` processes (default: every core); 1 runs in this process.

    ``workers``: processes started beforehand (:class:`Workers`), used instead of new ones unless the
    run is serial; the caller closes them.
    """
    jobs = max(1, jobs if jobs is not None else (os.cpu_count() or 1))
    jobs = min(jobs, max(1, len(items)))
    if jobs == 1:
        results = []
        for item in items:
            results.append(evaluate_case(_materialise(item, pack, dist), pack))
            if progress:
                progress(1)
        return results
    if workers is not None:
        return workers.run(items, pack, dist, progress)
    with Workers(jobs) as own:
        return own.run(items, pack, dist, progress)


# ------------------------------------------------------------------------------------------------ metrics


def summarise(results: Sequence[CaseResult], pack: Pack, not_scored: Sequence[str] = ()) -> dict[str, Any]:
    """Top-1/top-3/subtype accuracy, confusion matrix, Brier score, calibration by decile and the misses.

    Brier score and calibration use the cases with an answer key only (a normal case has no correct
    diagnosis to put probability on). The Brier score is the multi-class original: the mean over cases of
    the sum over diagnoses of (p - outcome)^2, from 0 (perfect) to 2. ``not_scored`` names the cases
    left out because :func:`scored` says they have nothing to score.
    """
    n = len(results)
    dx_ids = [d.id for d in pack.diagnoses]
    rows = [*dx_ids, NORMAL]
    cols = [*dx_ids, NONE]
    confusion = {r: dict.fromkeys(cols, 0) for r in rows}
    per_dx: dict[str, list[int]] = {r: [0, 0, 0] for r in rows}  # cases, top1, top3
    answered = [r for r in results if r.expected is not None]
    brier_total = 0.0
    bins = [[0, 0.0, 0] for _ in range(10)]  # count, sum of p, outcomes
    for r in results:
        expected = r.expected or NORMAL
        predicted = r.ranking[0][0] if r.supported or (r.top1 and r.expected) else NONE
        confusion.setdefault(expected, dict.fromkeys(cols, 0))
        confusion[expected][predicted] = confusion[expected].get(predicted, 0) + 1
        stats = per_dx.setdefault(expected, [0, 0, 0])
        stats[0] += 1
        stats[1] += r.top1
        stats[2] += r.top3
        if r.expected is None:
            continue
        for dx, _, p in r.ranking:
            y = 1.0 if dx == r.expected else 0.0
            brier_total += (p - y) ** 2
            b = bins[min(int(p * 10), 9)]
            b[0] += 1
            b[1] += p
            b[2] += int(y)
    with_subtype = [r for r in results if r.subtype_correct is not None]
    misses = [r for r in results if not r.top1]
    return {
        "cases": n,
        "not_scored": list(not_scored),
        "answered": len(answered),
        "top1": rounded(sum(r.top1 for r in results) / n) if n else 0.0,
        "top3": rounded(sum(r.top3 for r in results) / n) if n else 0.0,
        "subtype": rounded(sum(bool(r.subtype_correct) for r in with_subtype) / len(with_subtype))
        if with_subtype
        else None,
        "subtype_cases": len(with_subtype),
        "brier": rounded(brier_total / len(answered)) if answered else 0.0,
        "brier_cases": len(answered),
        "per_diagnosis": [
            {
                "diagnosis": dx,
                "cases": s[0],
                "top1": rounded(s[1] / s[0]),
                "top3": rounded(s[2] / s[0]),
            }
            for dx, s in per_dx.items()
            if s[0]
        ],
        "confusion": {"rows": "expected", "columns": "predicted top-1", "matrix": confusion},
        "calibration": [
            {
                "bin": f"{i / 10:.1f}-{(i + 1) / 10:.1f}",
                "n": b[0],
                "mean_predicted": rounded(b[1] / b[0]) if b[0] else None,
                "observed": rounded(b[2] / b[0]) if b[0] else None,
            }
            for i, b in enumerate(bins)
        ],
        "misses": [_miss(r) for r in misses],
        "subtype_misses": [
            {
                "case": r.case,
                "diagnosis": r.expected,
                "expected_subtype": r.expected_subtype,
                "predicted_subtype": r.ranking[0][1],
                "why": r.why,
            }
            for r in with_subtype
            if r.top1 and not r.subtype_correct
        ],
        "pack": pack_stamp(pack),
    }


def _miss(r: CaseResult) -> dict[str, Any]:
    order = [dx for dx, _, _ in r.ranking]
    rank_no = order.index(r.expected) + 1 if r.expected in order else None
    return {
        "case": r.case,
        "expected": r.expected,
        "expected_subtype": r.expected_subtype,
        "supported": r.supported,
        "top3": [
            {"diagnosis": dx, "subtype": sub, "probability": rounded(p)} for dx, sub, p in r.ranking[:3]
        ],
        "expected_rank": rank_no,
        "expected_probability": rounded(r.ranking[rank_no - 1][2]) if rank_no else None,
        "why": r.why,
        "tags": list(r.tags),
    }
