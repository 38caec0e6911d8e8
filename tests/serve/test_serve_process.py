"""`hemedx serve` as a real process on 127.0.0.1: its URL, a strict CSP, and a stop on Ctrl-C."""

from __future__ import annotations

import re
import socket
import urllib.request

import pytest

from support.serve_helpers import free_port, start, stop

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


def test_bad_serve_arguments_are_one_line_and_exit_2(tmp_path):
    from click.testing import CliRunner

    from hemedx.cli import cli

    runner = CliRunner()
    db = str(tmp_path / "x.sqlite3")
    r = runner.invoke(cli, ["serve", "no-such-case", "--port", str(free_port()), "--db", db])
    assert r.exit_code == 2 and "no-such-case" in r.output and "Traceback" not in r.output
    r = runner.invoke(cli, ["serve", "--host", "nosuch.invalid", "--port", str(free_port()), "--db", db])
    assert r.exit_code == 2 and "--host nosuch.invalid: not an address" in r.output
    notdb = tmp_path / "not.sqlite3"
    notdb.write_text("this is not a database, " * 100)
    r = runner.invoke(cli, ["serve", "--host", "127.0.0.1", "--port", str(free_port()), "--db", str(notdb)])
    assert r.exit_code == 2 and "cannot use" in r.output and str(notdb) in r.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = runner.invoke(cli, ["serve", "--host", "127.0.0.1", "--port", str(port), "--db", db])
    assert r.exit_code == 2 and "Address already in use (pick another --port)" in r.output
