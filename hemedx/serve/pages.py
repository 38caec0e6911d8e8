"""The HTML shells, rendered with every interpolated value escaped; the page scripts fill them in."""

from __future__ import annotations

from html import escape

from hemedx.engine.report import DISCLAIMER
from hemedx.serve.store import Session, Student


def _page(title: str, body: str, script: str, kind: str, data: dict[str, str] | None = None) -> str:
    attrs = "".join(f' data-{escape(k)}="{escape(v)}"' for k, v in (data or {}).items())
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        '<link rel="stylesheet" href="/static/style.css">\n'
        '<script src="/static/common.js" defer></script>\n'
        f'<script src="/static/{script}" defer></script>\n'
        f'</head>\n<body class="{kind}"{attrs}>\n{body}\n'
        f'<footer class="disclaimer">{escape(DISCLAIMER)}</footer>\n</body>\n</html>\n'
    )


def home(cases: list[tuple[str, str]]) -> str:
    """Join a class by code, or pick a case to study alone."""
    items = "".join(
        f'<li><button type="button" class="self" data-case="{escape(cid)}">{escape(title)}</button></li>'
        for cid, title in cases
    )
    body = f"""<main class="narrow">
<h1>hemedx classroom</h1>
<form id="join" autocomplete="off">
  <label>Session code <input id="code" name="code" maxlength="8" autocapitalize="characters" required></label>
  <label>Nickname (anonymous) <input id="nickname" name="nickname" maxlength="24" required></label>
  <button type="submit">Join</button>
  <p id="join-error" class="error" role="alert"></p>
</form>
<h2>Study a case alone</h2>
<p class="hint">Commit your differential at each stage, then compare it with the engine's.</p>
<ul class="self-list">{items}</ul>
</main>"""
    return _page("hemedx classroom", body, "home.js", "phone")


def student(session: Session, student: Student) -> str:
    """The phone page of one student; their nickname is escaped here and set as text by the script."""
    body = f"""<header class="topbar"><span id="case-title"></span>
  <span class="who">You: <b id="nickname">{escape(student.nickname)}</b></span></header>
<main class="narrow">
<p id="status" class="status" role="status"></p>
<form id="answer" hidden autocomplete="off">
  <h2>Your differential, best first</h2>
  <datalist id="dx-list"></datalist>
  <label>1. <input class="pick" list="dx-list" id="pick-1" required></label>
  <label>2. <input class="pick" list="dx-list" id="pick-2"></label>
  <label>3. <input class="pick" list="dx-list" id="pick-3"></label>
  <label id="subtype-row" hidden>Subtype of your first pick <select id="subtype"></select></label>
  <button type="submit" id="commit">Commit</button>
  <p id="answer-error" class="error" role="alert"></p>
</form>
<button type="button" id="self-next" hidden>Continue</button>
<section id="answer-box"></section>
<form id="whatif" hidden autocomplete="off">
  <h2>What if…</h2>
  <label>Finding <select id="whatif-finding"></select></label>
  <label>were <select id="whatif-state"><option value="present">present</option>
    <option value="absent">absent</option><option value="unknown">unknown</option></select></label>
  <button type="submit">Re-rank</button>
  <div id="whatif-result"></div>
</form>
<section id="results"></section>
<section id="findings"></section>
</main>"""
    return _page(
        "hemedx — student", body, "student.js", "phone", {"session": session.id, "mode": session.mode}
    )


def teacher(session: Session) -> str:
    """The projector page; holds nothing until the script reads the token from the link's fragment."""
    body = """<header class="topbar"><span id="case-title"></span><span id="progress"></span>
  <span class="join">code <b id="code" class="code"></b></span></header>
<main id="screen">
  <section id="left"></section>
  <section id="right"></section>
</main>
<nav class="keys" aria-label="Presenter controls">
  <button type="button" id="back" title="Back (←)">◀</button>
  <button type="button" id="advance" title="Next step (→, space)">Next ▶</button>
  <button type="button" id="explain" title="Explanation (e)">Explanation</button>
  <a id="export-csv">CSV</a> <a id="export-json">JSON</a>
  <span id="hint"></span>
</nav>
<p id="error" class="error" role="alert"></p>"""
    return _page("hemedx — teacher", body, "teacher.js", "projector", {"session": session.id})
