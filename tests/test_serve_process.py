"""`hemedx serve` as a real process on 127.0.0.1: its URL, a strict CSP, and a stop on Ctrl-C."""

from __future__ import annotations

import re
import urllib.request

import pytest
from serve_helpers import free_port, start, stop

pytest.importorskip("uvicorn")


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
