"""`hemedx serve` as a real process on 127.0.0.1: its URL, a strict CSP, and a stop on Ctrl-C."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytest.importorskip("uvicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(port, db, *cases):
    cmd = [sys.executable, "-c", "from hemedx.cli import main; main()", "serve", *cases,
           "--host", "127.0.0.1", "--port", str(port), "--db", str(db)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl-C" in line:
            break
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    return proc, "".join(lines)


def stop(proc) -> tuple[float, str]:
    began = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=10)
    elapsed = time.monotonic() - began
    rest = proc.stdout.read()
    proc.stdout.close()
    return elapsed, rest


def test_serve_answers_with_csp_and_stops_on_sigint(tmp_path):
    port = free_port()
    db = tmp_path / "class.sqlite3"
    proc, out = start(port, db, "aa-severe-young-woman")
    try:
        assert f"http://127.0.0.1:{port}/" in out
        code = re.search(r"enter code ([A-Z0-9]{5})", out).group(1)
        teacher = re.search(rf"http://127\.0\.0\.1:{port}/teacher/(\w+)#t=(\S+)", out)
        assert teacher, out
        assert "█" in out or "▀" in out  # the QR code
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            csp = r.headers["Content-Security-Policy"]
            html = r.read().decode()
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert not re.search(r"(src|href|action)=\"(?!/)", html), "every asset is served from this server"
        assert "http" not in re.sub(r"<footer.*?</footer>", "", html)
        assert "<script>" not in html  # no inline script
        for asset in re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", html):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{asset}", timeout=5) as r:
                body = r.read().decode()
            assert "http://" not in body and "https://" not in body, asset
    finally:
        elapsed, rest = stop(proc)
    assert proc.returncode == 0
    assert elapsed < 5
    assert "Stopped" in rest and "Traceback" not in rest

    # the same --db resumes the same session: same code, same teacher token
    proc, out2 = start(port, db, "aa-severe-young-woman")
    try:
        assert "Resumed session " + teacher.group(1) in out2 and f"code {code}" in out2
        assert f"#t={teacher.group(2)}" in out2
    finally:
        stop(proc)
