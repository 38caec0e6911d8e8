"""The Starlette application: pages, the student and teacher JSON API, and its error handling.

Pages are shells rendered server-side with escaping; the page script (a static file, allowed by the CSP)
fetches the JSON views and builds everything with ``textContent``. Who may do what:

* the teacher (header ``X-Hemedx-Token`` or ``?token=`` on downloads) moves the session and reads all;
* a student (cookie ``hx_<session>``) writes only their own answer, reads only their own view;
* in self-study the student moves their own session, but only past a stage they have answered.
"""

from __future__ import annotations

import json
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from hemedx.cases.model import Case
from hemedx.engine.quiz import PICKS
from hemedx.rules.model import Pack
from hemedx.serve import export, pages
from hemedx.serve.deck import FINDING_STATES, CaseMaterial, build_case, last_step, position, what_if
from hemedx.serve.guard import COOKIE_PREFIX, Guard, Limits
from hemedx.serve.store import Answer, Session, Store, Student
from hemedx.serve.views import diagnoses, engine_shown_through, student_view, teacher_view

NICKNAME_MAX = 24
MAX_STUDENTS = 1000  # per session: a lecture hall, not an open signup


class Refused(Exception):
    """A request we answer with a 4xx and one plain sentence."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Classroom:
    """The app's state: store, pack, the cases it may serve, and engine material built once per case."""

    store: Store
    pack: Pack
    cases: dict[str, Case]
    self_study: list[str]
    join_url: str = ""
    uniform_priors: bool = False
    _materials: dict[str, CaseMaterial] = field(default_factory=dict)
    library: Callable[[str], Case | None] | None = None

    def case(self, case_id: str) -> Case:
        """A served case by id (the deck's, else a library case for self-study)."""
        if case_id in self.cases:
            return self.cases[case_id]
        found = self.library(case_id) if self.library else None
        if found is None:
            raise Refused(404, f"no case '{case_id}' on this server")
        self.cases[case_id] = found
        return found

    def material(self, case_id: str) -> CaseMaterial:
        """The per-stage engine material of a case, computed on first use."""
        if case_id not in self._materials:
            self._materials[case_id] = build_case(self.case(case_id), self.pack, self.uniform_priors)
        return self._materials[case_id]

    def deck(self, session: Session) -> list[CaseMaterial]:
        """The materials of a session's cases, in deck order."""
        return [self.material(c) for c in session.cases]


def _room(request: Request) -> Classroom:
    return request.app.state.room


def _session(request: Request) -> Session:
    sid = request.path_params["sid"]
    found = _room(request).store.session(sid) if sid.isalnum() and len(sid) <= 32 else None
    if found is None:
        raise Refused(404, f"no session '{sid[:32]}'")
    return found


def _teacher(request: Request) -> Session:
    session = _session(request)
    token = request.headers.get("x-hemedx-token") or request.query_params.get("token") or ""
    if session.mode != "class" or not secrets.compare_digest(token.encode(), session.token.encode()):
        raise Refused(403, "teacher actions need this session's teacher link (token missing or wrong)")
    return session


def _student(request: Request, session: Session) -> Student:
    secret = request.cookies.get(COOKIE_PREFIX + session.id, "")
    student = _room(request).store.student_by_secret(session.id, secret) if secret else None
    if student is None:
        raise Refused(403, "join this session first (no student cookie for it)")
    return student


async def _json(request: Request) -> dict[str, Any]:
    limit = request.app.state.max_body
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Refused(413, f"request body over {limit} bytes")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise Refused(400, "the request body must be a JSON object") from None
    if not isinstance(data, dict):
        raise Refused(400, "the request body must be a JSON object")
    return data


def clean_nickname(value: Any) -> str:
    """A nickname: 1–24 printable characters (shown as text, so markup is harmless)."""
    if not isinstance(value, str):
        raise Refused(400, "nickname: give a text of 1 to 24 characters")
    text = " ".join(value.split())
    if not 1 <= len(text) <= NICKNAME_MAX or any(unicodedata.category(ch).startswith("C") for ch in text):
        raise Refused(400, f"nickname: give 1 to {NICKNAME_MAX} printable characters")
    return text


def _cookie(response: Response, session: Session, secret: str) -> None:
    response.set_cookie(
        COOKIE_PREFIX + session.id, secret, max_age=12 * 3600, httponly=True, samesite="strict", path="/"
    )


# ---- pages ------------------------------------------------------------------------------------------


async def home(request: Request) -> Response:
    """The join page (code and nickname) with the self-study list."""
    room = _room(request)
    titles = [(c, room.case(c).title) for c in room.self_study]
    return HTMLResponse(pages.home(titles))


async def student_page(request: Request) -> Response:
    """A student's phone page; without their cookie, back to the join page."""
    session = _session(request)
    try:
        student = _student(request, session)
    except Refused:
        return RedirectResponse("/" + (f"?code={session.code}" if session.mode == "class" else ""), 303)
    return HTMLResponse(pages.student(session, student))


async def teacher_page(request: Request) -> Response:
    """The projector page; it holds no data until its script sends the token from the link's fragment."""
    session = _session(request)
    return HTMLResponse(pages.teacher(session))


async def qr_svg(request: Request) -> Response:
    """The join link as a QR code (SVG) for the projector."""
    import io

    import segno

    url = _room(request).join_url or str(request.base_url)
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=8, border=2, dark="#000", light="#fff")
    return Response(out.getvalue(), media_type="image/svg+xml")


# ---- student API ------------------------------------------------------------------------------------


async def join(request: Request) -> Response:
    """Join a class session by code with a nickname; sets the student's cookie."""
    data = await _json(request)
    code = str(data.get("code", "")).strip().upper()[:16]
    nickname = clean_nickname(data.get("nickname"))
    store = _room(request).store
    session = store.session_by_code(code) if code.isalnum() else None
    if session is None:
        raise Refused(404, f"no class session with code '{code}' (check the code on the projector)")
    students = store.students(session.id)
    if len(students) >= MAX_STUDENTS:
        raise Refused(409, f"this session is full ({MAX_STUDENTS} students)")
    if nickname.casefold() in {s.nickname.casefold() for s in students}:
        raise Refused(409, "nickname: someone in this session already uses it; pick another")
    student, secret = store.add_student(session.id, nickname)
    response = JSONResponse({"session": session.id, "student": student.id, "url": f"/s/{session.id}"})
    _cookie(response, session, secret)
    return response


async def start_self_study(request: Request) -> Response:
    """Start walking a case alone: a one-student session the student moves themselves."""
    data = await _json(request)
    room = _room(request)
    case_id = data.get("case")
    if not isinstance(case_id, str) or case_id not in room.self_study:
        raise Refused(404, "case: pick one of the cases listed on the start page")
    room.material(case_id)
    session = room.store.create_session([case_id], "self")
    student, secret = room.store.add_student(session.id, "you")
    response = JSONResponse({"session": session.id, "student": student.id, "url": f"/s/{session.id}"})
    _cookie(response, session, secret)
    return response


async def student_state(request: Request) -> Response:
    """The student's own view of the current step."""
    session = _session(request)
    student = _student(request, session)
    room = _room(request)
    mine = room.store.answers(session.id, session.case_index, student.id)
    view = student_view(session, room.deck(session), student, mine)
    view["diagnoses"] = diagnoses(room.pack)
    return JSONResponse(view)


async def save_answer(request: Request) -> Response:
    """Record the student's picks for the open stage; acknowledged only after the commit."""
    session = _session(request)
    student = _student(request, session)
    room = _room(request)
    data = await _json(request)
    material = room.deck(session)[session.case_index]
    pos = position(session.step, len(material.stages))
    stage = data.get("stage")
    if pos.phase != "open" or type(stage) is not int or stage != pos.stage:
        raise Refused(409, "answers for this stage are closed (the teacher has moved on)")
    picks = data.get("picks")
    known = room.pack.kb.diagnoses
    if (
        not isinstance(picks, list)
        or not 1 <= len(picks) <= PICKS
        or not all(isinstance(p, str) for p in picks)
    ):
        raise Refused(400, f"picks: give a list of 1 to {PICKS} different diagnosis ids")
    unknown = next((p for p in picks if p not in known), None)
    if unknown is not None:
        raise Refused(
            400, f"picks: '{unknown[:40]}' is not a diagnosis id of this pack (one of {', '.join(known)})"
        )
    if len(set(picks)) != len(picks):
        raise Refused(400, f"picks: give 1 to {PICKS} different diagnosis ids (one is listed twice)")
    subtype = data.get("subtype")
    if subtype is not None and (
        not isinstance(subtype, str) or subtype not in {s.id for s in known[picks[0]].subtypes}
    ):
        raise Refused(400, f"subtype: not a subtype of {known[picks[0]].label}")
    room.store.save_answer(
        session.id, Answer(student.id, session.case_index, stage, tuple(picks), subtype, time.time())
    )
    return JSONResponse({"saved": True, "stage": stage, "picks": picks, "subtype": subtype})


async def student_answers(request: Request) -> Response:
    """A student's answers: only to that student (cookie) or the teacher (token)."""
    session = _session(request)
    wanted = request.path_params["student"]
    room = _room(request)
    if request.headers.get("x-hemedx-token") or request.query_params.get("token"):
        _teacher(request)
    elif _student(request, session).id != wanted:
        raise Refused(403, "you can read only your own answers")
    rows = room.store.answers(session.id, student=wanted)
    return JSONResponse(
        [
            {"case_index": a.case_index, "stage": a.stage, "picks": list(a.picks), "subtype": a.subtype}
            for a in rows
        ]
    )


async def self_advance(request: Request) -> Response:
    """Self-study: move on, but never past a stage's engine view before committing an answer to it."""
    session = _session(request)
    student = _student(request, session)
    if session.mode != "self":
        raise Refused(403, "in a class session the teacher moves the stages")
    room = _room(request)
    material = room.deck(session)[0]
    pos = position(session.step, len(material.stages))
    if pos.phase == "open":
        answered = any(
            a.stage == pos.stage and a.student == student.id for a in room.store.answers(session.id)
        )
        if not answered:
            raise Refused(409, "commit your differential for this stage before seeing the engine's")
        step = session.step + 2  # no class step when alone
    else:
        step = min(session.step + 1, last_step(len(material.stages)))
    room.store.set_position(session.id, 0, step)
    return JSONResponse({"step": step})


async def self_what_if(request: Request) -> Response:
    """Self-study: toggle one clinical finding at a stage whose engine view is already shown."""
    session = _session(request)
    _student(request, session)
    if session.mode != "self":
        raise Refused(403, "what-if is part of self-study")
    room = _room(request)
    data = await _json(request)
    material = room.deck(session)[0]
    pos = position(session.step, len(material.stages))
    stage = data.get("stage")
    if type(stage) is not int or not 0 <= stage <= engine_shown_through(pos):
        raise Refused(409, "what-if opens once the engine's view of that stage is shown")
    finding, state = data.get("finding"), data.get("state")
    if not isinstance(finding, str) or finding not in {f.id for f in room.pack.vocabulary.findings}:
        raise Refused(400, "finding: give a clinical finding id from the list")
    if state not in FINDING_STATES:
        raise Refused(400, "state: present, absent or unknown")
    return JSONResponse(what_if(material, room.pack, stage, finding, state, room.uniform_priors))


# ---- teacher API ------------------------------------------------------------------------------------


async def teacher_state(request: Request) -> Response:
    """Everything the projector shows at the current step."""
    session = _teacher(request)
    room = _room(request)
    view = teacher_view(
        session, room.deck(session), room.store.answers(session.id), room.store.students(session.id)
    )
    view["join_url"] = room.join_url
    return JSONResponse(view)


def _move(room: Classroom, session: Session, forward: bool) -> tuple[int, int]:
    deck = room.deck(session)
    case_index, step = session.case_index, session.step + (1 if forward else -1)
    if step > last_step(len(deck[case_index].stages)):
        case_index, step = (case_index + 1, 0) if case_index + 1 < len(deck) else (case_index, step - 1)
    elif step < 0:
        case_index, step = (
            (case_index - 1, last_step(len(deck[case_index - 1].stages))) if case_index else (0, 0)
        )
    return case_index, step


async def _teacher_move(request: Request, forward: bool) -> Response:
    session = _teacher(request)
    room = _room(request)
    case_index, step = _move(room, session, forward)
    room.store.set_position(session.id, case_index, step)
    return JSONResponse({"case_index": case_index, "step": step})


async def teacher_advance(request: Request) -> Response:
    """The next step; past a case's answer comes the next case of the deck."""
    return await _teacher_move(request, True)


async def teacher_back(request: Request) -> Response:
    """The previous step (answers already given are kept)."""
    return await _teacher_move(request, False)


async def teacher_export(request: Request) -> Response:
    """The session's results as JSON or CSV (for an LMS gradebook)."""
    session = _teacher(request)
    room = _room(request)
    fmt = request.path_params["fmt"]
    if fmt not in ("csv", "json"):
        raise Refused(404, "export as export.csv or export.json")
    data = export.session_results(session, room.deck(session), room.store)
    if fmt == "csv":
        return PlainTextResponse(
            export.to_csv(data),
            media_type="text/csv",
            headers={"content-disposition": f'attachment; filename="hemedx-{session.id}.csv"'},
        )
    return JSONResponse(
        data, headers={"content-disposition": f'attachment; filename="hemedx-{session.id}.json"'}
    )


# ---- errors -----------------------------------------------------------------------------------------


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return JSONResponse({"error": exc.message}, status_code=exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code)


async def _internal(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "internal error in hemedx serve (please report it)"}, status_code=500)


def create_app(room: Classroom, limits: Limits | None = None) -> Guard:
    """The ASGI app, wrapped in the request guard (headers, body cap, rate limit)."""
    static = Path(str(resources.files("hemedx.serve") / "static"))
    routes = [
        Route("/", home),
        Route("/s/{sid}", student_page),
        Route("/teacher/{sid}", teacher_page),
        Route("/qr.svg", qr_svg),
        Route("/api/join", join, methods=["POST"]),
        Route("/api/self", start_self_study, methods=["POST"]),
        Route("/api/s/{sid}/state", student_state),
        Route("/api/s/{sid}/answer", save_answer, methods=["PUT", "POST"]),
        Route("/api/s/{sid}/advance", self_advance, methods=["POST"]),
        Route("/api/s/{sid}/whatif", self_what_if, methods=["POST"]),
        Route("/api/s/{sid}/students/{student}/answers", student_answers),
        Route("/api/t/{sid}/state", teacher_state),
        Route("/api/t/{sid}/advance", teacher_advance, methods=["POST"]),
        Route("/api/t/{sid}/back", teacher_back, methods=["POST"]),
        Route("/api/t/{sid}/export.{fmt:str}", teacher_export),
        Mount("/static", StaticFiles(directory=static), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={Refused: _refused, HTTPException: _http_error, Exception: _internal},
    )
    limits = limits or Limits()
    app.state.room = room
    app.state.max_body = limits.max_body
    return Guard(app, limits)
