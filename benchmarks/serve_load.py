"""Classroom load test: 200 simulated students answer every stage of a case over loopback.

Starts ``hemedx serve`` on 127.0.0.1 only (a free port, a temporary --db), joins the students, has
the teacher open each stage, every student answer it (PUT, timed: the answer is acknowledged only after
its commit) and poll once, then kills the server with SIGKILL and counts the answers in the database:
none may be lost. Bounded in count (``--students``, at most 500) and time (``--deadline`` seconds).
Writes JSON (``--json FILE``); the p95 answer latency is recorded, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx

HOST = "127.0.0.1"  # loopback only, by design
CASE = "aa-severe-young-woman"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(port: int, db: Path, students: int) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-c", "from hemedx.cli import main; main()", "serve", CASE, "--host", HOST,
           "--port", str(port), "--db", str(db), "--address-rate", str(max(100, 20 * students))]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = ""
    deadline = time.monotonic() + 60
    while "Ctrl-C" not in out and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("server did not start:\n" + out)
        out += line
    return proc, out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(args: argparse.Namespace, base: str, code: str, sid: str, token: str) -> dict:
    limits = httpx.Limits(max_connections=args.concurrency)
    latencies: list[float] = []
    failures: list[str] = []
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as shared:
        teacher = {"X-Hemedx-Token": token}
        gate = asyncio.Semaphore(args.concurrency)

        async def join(i: int) -> dict:
            async with gate:
                r = await shared.post("/api/join", json={"code": code, "nickname": f"student {i:03d}"})
                r.raise_for_status()
                shared.cookies.clear()  # each student keeps their own cookie, sent as a header
                return {"cookie": "; ".join(f"{k}={v}" for k, v in r.cookies.items())}

        cookies = await asyncio.gather(*(join(i) for i in range(args.students)))
        state = (await shared.get(f"/api/t/{sid}/state", headers=teacher)).json()
        stages = state["stages"]
        picks = ["aplastic_anemia", "acute_leukemia", "mds"]

        async def answer(jar: dict, stage: int, n: int) -> None:
            async with gate:
                began = time.perf_counter()
                body = {"stage": stage, "picks": picks[: 1 + n % 3]}
                r = await shared.put(f"/api/s/{sid}/answer", json=body, headers=jar)
                latencies.append(time.perf_counter() - began)
                if r.status_code != 200:
                    failures.append(f"stage {stage}: {r.status_code} {r.text[:80]}")
                poll = await shared.get(f"/api/s/{sid}/state", headers=jar)
                if poll.status_code != 200:
                    failures.append(f"poll {stage}: {poll.status_code}")

        for stage in range(stages):
            (await shared.post(f"/api/t/{sid}/advance", headers=teacher)).raise_for_status()
            await asyncio.gather(*(answer(jar, stage, n) for n, jar in enumerate(cookies)))
            for _ in range(2):  # class, then engine
                (await shared.post(f"/api/t/{sid}/advance", headers=teacher)).raise_for_status()
            (await shared.get(f"/api/t/{sid}/state", headers=teacher)).raise_for_status()
    return {"stages": stages, "latencies": latencies, "failures": failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--deadline", type=float, default=180.0, help="seconds before giving up")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if not 1 <= args.students <= 500:
        raise SystemExit("--students must be 1..500 (a bounded loopback test)")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "load.sqlite3"
        port = free_port()
        proc, out = start_server(port, db, args.students)
        try:
            sid, token = re.search(r"/teacher/(\w+)#t=(\S+)", out).groups()
            code = re.search(r"enter code (\w+)", out).group(1)
            began = time.monotonic()
            result = asyncio.run(asyncio.wait_for(run(args, f"http://{HOST}:{port}", code, sid, token),
                                                  args.deadline))  # fmt: skip
            elapsed = time.monotonic() - began
        finally:
            proc.send_signal(signal.SIGKILL)  # no clean shutdown: what was acknowledged must be on disk
            proc.wait(timeout=10)
            proc.stdout.close()
        with sqlite3.connect(db) as conn:
            stored = conn.execute("SELECT COUNT(*) FROM answers WHERE session=?", (sid,)).fetchone()[0]
    expected = args.students * result["stages"]
    lat = result["latencies"]
    report = {
        "benchmark": "serve_load",
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "students": args.students,
        "stages": result["stages"],
        "answers_sent": len(lat),
        "answers_expected": expected,
        "answers_stored_after_sigkill": stored,
        "lost": expected - stored,
        "failures": result["failures"][:20],
        "answer_latency_ms": {
            "p50": round(percentile(lat, 0.50) * 1000, 1),
            "p95": round(percentile(lat, 0.95) * 1000, 1),
            "max": round(max(lat) * 1000, 1),
        },
        "seconds": round(elapsed, 2),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    if report["lost"] or report["failures"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
