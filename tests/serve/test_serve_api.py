"""The classroom server's API: who may do what, what is withheld until revealed, limits, durability."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hemedx import load_pack
from hemedx.cases.library import resolve_case
from hemedx.cli import cli
from hemedx.engine.quizscore import score_stage
from hemedx.engine.report import rank_case, ranked_report
from hemedx.serve.guard import CSP, Limits, TokenBucket
from hemedx.serve.store import SQLiteStore

from support.serve_helpers import CASE, client, make_room

pytest.importorskip("starlette")


@pytest.fixture
def room(tmp_path):
    room, session = make_room(tmp_path / "class.sqlite3", [CASE])
    room.test_session = session
    return room


def join(room, nickname):
    c = client(room)
    r = c.post("/api/join", json={"code": room.test_session.code, "nickname": nickname})
    assert r.status_code == 200, r.text
    return c, r.json()["student"]


def teacher(room):
    c = client(room)
    c.headers["X-Hemedx-Token"] = room.test_session.token
    return c


def advance(t, sid, times=1):
    for _ in range(times):
        assert t.post(f"/api/t/{sid}/advance").status_code == 200


def test_teacher_actions_need_the_token(room):
    sid = room.test_session.id
    anon = client(room)
    student, _ = join(room, "ana")
    wrong = client(room)
    wrong.headers["X-Hemedx-Token"] = "not-the-token"
    for c in (anon, student, wrong):
        for method, url in [
            ("GET", f"/api/t/{sid}/state"),
            ("POST", f"/api/t/{sid}/advance"),
            ("POST", f"/api/t/{sid}/back"),
            ("GET", f"/api/t/{sid}/export.csv"),
            ("GET", f"/api/t/{sid}/export.json"),
        ]:
            r = c.request(method, url)
            assert r.status_code == 403, (method, url, r.text)
            assert "teacher" in r.json()["error"]
    assert room.store.session(sid).step == 0  # nothing moved
    assert teacher(room).get(f"/api/t/{sid}/state").status_code == 200


def test_a_student_reads_only_their_own_answers(room):
    sid = room.test_session.id
    t = teacher(room)
    a, a_id = join(room, "ana")
    b, b_id = join(room, "ben")
    advance(t, sid)
    assert a.put(f"/api/s/{sid}/answer", json={"stage": 0, "picks": ["itp"]}).status_code == 200
    assert b.put(f"/api/s/{sid}/answer", json={"stage": 0, "picks": ["aplastic_anemia"]}).status_code == 200
    assert a.get(f"/api/s/{sid}/students/{a_id}/answers").json()[0]["picks"] == ["itp"]
    r = a.get(f"/api/s/{sid}/students/{b_id}/answers")
    assert r.status_code == 403 and "only your own" in r.json()["error"]
    assert client(room).get(f"/api/s/{sid}/students/{b_id}/answers").status_code == 403
    assert t.get(f"/api/s/{sid}/students/{b_id}/answers").json()[0]["picks"] == ["aplastic_anemia"]
    # a student's own view never carries anyone else's picks or nicknames
    state = a.get(f"/api/s/{sid}/state").text
    assert "ben" not in state and "class" not in json.loads(state)


def test_engine_and_answer_are_withheld_until_revealed(room):
    sid = room.test_session.id
    t = teacher(room)
    s, _ = join(room, "ana")
    pack = load_pack()
    case = resolve_case(CASE, pack)
    advance(t, sid)  # stage 1 open
    for stage in range(len(case.stages)):
        ranking, report = ranked_report(case, pack, case.snapshot(stage), stage, False, next_test=True)
        secret_bits = [report["summary"], report["next_test"]["why"], "teaching_points", "explanation"]
        secret_bits += [f"{d['probability'] * 100:.1f}%" for d in report["differential"][:3]]
        s.put(f"/api/s/{sid}/answer", json={"stage": stage, "picks": ["aplastic_anemia", "acute_leukemia"]})
        for phase in ("open", "class"):
            view = s.get(f"/api/s/{sid}/state").json()
            assert view["phase"] == phase and view["stage"] == stage
            assert [r["stage"] for r in view["results"]] == list(range(stage))
            assert "answer" not in view and "total" not in view
            text = json.dumps(view)
            assert CASE not in text  # not even the id: it names the answer
            for bit in secret_bits:
                assert bit not in text
            tv = t.get(f"/api/t/{sid}/state").json()
            assert "engine" not in tv and "answer" not in tv
            assert ("class" in tv) == (phase == "class")
            advance(t, sid)
        view = s.get(f"/api/s/{sid}/state").json()
        assert view["phase"] == "engine"
        result = view["results"][-1]
        order = [d["diagnosis"] for d in report["differential"]]
        key = "aplastic_anemia" if stage == len(case.stages) - 1 else None
        expected = score_stage(["aplastic_anemia", "acute_leukemia"], ranking, key)
        assert result["score"]["points"] == expected["points"]
        tv = t.get(f"/api/t/{sid}/state").json()
        assert [d["diagnosis"] for d in tv["engine"]["differential"]] == order
        assert tv["engine"]["next_test"]["label"] == report["next_test"]["label"]
        assert "answer" not in view and "answer" not in tv
        advance(t, sid)
    view = s.get(f"/api/s/{sid}/state").json()
    assert view["phase"] == "answer"
    assert view["answer"]["diagnosis"] == "aplastic_anemia" and view["answer"]["teaching_points"]
    # no subtype was answered: the subtype question adds nothing, but counts in the maximum
    assert view["total"]["points"] == sum(view["total"]["stages"]) and view["total"]["bonus"] == 0
    assert view["total"]["max"] == 10 * len(case.stages) + 5
    # answers are closed once the teacher moved on
    r = s.put(f"/api/s/{sid}/answer", json={"stage": 0, "picks": ["itp"]})
    assert r.status_code == 409 and "closed" in r.json()["error"]


def test_markup_in_a_nickname_is_text(room):
    evil = "<script>x()</script>"
    s, _ = join(room, evil)
    page = s.get(f"/s/{room.test_session.id}")
    assert page.status_code == 200
    assert evil not in page.text and "&lt;script&gt;x()&lt;/script&gt;" in page.text
    assert page.headers["content-security-policy"] == CSP
    assert teacher(room).get(f"/api/t/{room.test_session.id}/state").json()["nicknames"] == [evil]


def test_limits_body_size_and_rate(room):
    sid = room.test_session.id
    s, _ = join(room, "ana")
    big = {"stage": 0, "picks": ["itp"], "pad": "x" * 10000}
    r = s.put(f"/api/s/{sid}/answer", json=big)
    assert r.status_code == 413 and "over 4096 bytes" in r.json()["error"]

    def chunks():
        yield b'{"code": "'
        for _ in range(20):
            yield b"A" * 1000
        yield b'"}'

    r = client(room).post("/api/join", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    tight = client(room, Limits(rate=1, burst=3, address_rate=1, address_burst=5))
    codes = [tight.get("/").status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and codes[-1] == 429
    r = tight.get("/")
    assert r.status_code == 429 and r.headers["retry-after"] == "1" and "too many" in r.json()["error"]
    one = client(room, Limits(rate=1, burst=3))  # a student's own bucket is tighter than the address's
    s, _ = join(room, "zed")
    one.cookies.update(s.cookies)
    codes = [one.get(f"/api/s/{sid}/state").status_code for _ in range(5)]
    assert codes[:3] == [200] * 3 and codes[-1] == 429


def test_token_bucket_refills():
    bucket = TokenBucket(rate=2, burst=2)
    assert [bucket.allow("k", now=0.0) for _ in range(3)] == [True, True, False]
    assert bucket.allow("k", now=0.5) and not bucket.allow("k", now=0.5)
    assert bucket.allow("other", now=0.5)


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{not json", 400, "JSON object"),
        (b"[1, 2]", 400, "JSON object"),
        (b"[" * 4000, 400, "JSON object"),
        (b"\xff\xfe", 400, "JSON object"),
        (json.dumps({"stage": 0, "picks": []}).encode(), 400, "picks"),
        (json.dumps({"stage": 0, "picks": ["itp", "itp"]}).encode(), 400, "different"),
        (json.dumps({"stage": 0, "picks": ["itp", "aiha", "hs", "pnh"]}).encode(), 400, "1 to 3"),
        (json.dumps({"stage": 0, "picks": ["os.system"]}).encode(), 400, "'os.system' is not a diagnosis id"),
        (json.dumps({"stage": 0, "picks": "itp"}).encode(), 400, "picks"),
        (json.dumps({"stage": 0, "picks": ["itp"], "subtype": "severe"}).encode(), 400, "subtype"),
        (json.dumps({"stage": 2, "picks": ["itp"]}).encode(), 409, "closed"),
        (json.dumps({"stage": "0", "picks": ["itp"]}).encode(), 409, "closed"),
    ],
)
def test_bad_answers_get_a_4xx_message(room, body, status, words):
    sid = room.test_session.id
    advance(teacher(room), sid)
    s, _ = join(room, "ana")
    r = s.put(f"/api/s/{sid}/answer", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert words in r.json()["error"]


@pytest.mark.parametrize(
    ("payload", "status", "words"),
    [
        ({"code": "ZZZZZ", "nickname": "ana"}, 404, "no class session"),
        ({"code": None, "nickname": "ana"}, 404, "no class session"),
        ({"nickname": ""}, 400, "nickname"),
        ({"nickname": "a\u0000b"}, 400, "printable"),
        ({"nickname": "x" * 25}, 400, "1 to 24"),
        ({"nickname": 7}, 400, "nickname"),
    ],
)
def test_bad_joins_get_a_4xx_message(room, payload, status, words):
    payload.setdefault("code", room.test_session.code)
    r = client(room).post("/api/join", json=payload)
    assert r.status_code == status and words in r.json()["error"]


def test_unknown_things_are_404_not_500(room):
    c = client(room)
    assert c.get("/api/s/nosuch/state").status_code == 404
    assert c.get("/api/s/../../etc/state").status_code == 404
    assert c.get("/nowhere").status_code == 404
    assert teacher(room).get(f"/api/t/{room.test_session.id}/export.xml").status_code == 404
    assert c.post("/api/self", json={"case": "../../etc/passwd"}).status_code == 404
    join(room, "ana")
    assert (
        client(room).post("/api/join", json={"code": room.test_session.code, "nickname": "ANA"}).status_code
        == 409
    )


def test_restart_with_the_same_db_loses_nothing(tmp_path):
    db = tmp_path / "class.sqlite3"
    room, session = make_room(db, [CASE])
    room.test_session = session
    sid = session.id
    t = teacher(room)
    s, _ = join(room, "ana")
    advance(t, sid)
    assert s.put(f"/api/s/{sid}/answer", json={"stage": 0, "picks": ["aplastic_anemia"]}).status_code == 200
    advance(t, sid, 2)
    cookies = dict(s.cookies)
    room.store.close()

    again, _ = make_room(db, [CASE], session_mode=None)
    assert again.store.latest_session([CASE]) == session.__class__(**{**session.__dict__, "step": 3})
    s2 = client(again)
    s2.cookies.update(cookies)
    view = s2.get(f"/api/s/{sid}/state").json()
    assert view["nickname"] == "ana" and view["phase"] == "engine"
    assert view["results"][0]["score"]["picks"][0]["diagnosis"] == "aplastic_anemia"
    t2 = client(again)
    t2.headers["X-Hemedx-Token"] = session.token
    exported = t2.get(f"/api/t/{sid}/export.json").json()
    assert exported["students"][0]["cases"][0]["stages"][0]["picks"] == ["aplastic_anemia"]


def test_self_study_commits_before_the_engine(tmp_path):
    room, _ = make_room(tmp_path / "self.sqlite3", [CASE], session_mode=None)
    s = client(room)
    r = s.post("/api/self", json={"case": CASE})
    assert r.status_code == 200
    sid = r.json()["session"]
    assert s.post(f"/api/s/{sid}/advance").status_code == 200  # presentation -> stage 1
    view = s.get(f"/api/s/{sid}/state").json()
    assert view["phase"] == "open" and view["results"] == []
    r = s.post(f"/api/s/{sid}/advance")
    assert r.status_code == 409 and "commit your differential" in r.json()["error"]
    assert s.put(f"/api/s/{sid}/answer", json={"stage": 0, "picks": ["acute_leukemia"]}).status_code == 200
    assert s.post(f"/api/s/{sid}/advance").status_code == 200
    view = s.get(f"/api/s/{sid}/state").json()
    case = resolve_case(CASE, load_pack())
    first, _ = ranked_report(case, load_pack(), case.snapshot(0), 0, False)
    expected = score_stage(["acute_leukemia"], first)["points"]
    assert view["phase"] == "engine" and view["results"][0]["score"]["points"] == expected
    assert view["code"] is None
    # a self-study session has no teacher: the teacher API refuses it
    assert client(room).get(f"/api/t/{sid}/state").status_code == 403
    assert client(room).post(f"/api/s/{sid}/advance").status_code == 403  # not this student


def test_export_command_writes_csv_and_json(tmp_path):
    db = tmp_path / "class.sqlite3"
    room, session = make_room(db, [CASE])
    room.test_session = session
    s, _ = join(room, "=cmd")
    advance(teacher(room), session.id)
    s.put(f"/api/s/{session.id}/answer", json={"stage": 0, "picks": ["aplastic_anemia", "acute_leukemia"]})
    room.store.close()
    runner = CliRunner()
    r = runner.invoke(cli, ["serve", "export", session.id, "--csv", "--db", str(db)])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].startswith("session,student,nickname,case,stage")
    assert lines[1].split(",")[2:9] == ["'=cmd", CASE, "0", "History and examination", "aplastic_anemia",
                                        "acute_leukemia", ""]  # fmt: skip
    r = runner.invoke(cli, ["serve", "export", session.id, "--json", "--db", str(db)])
    data = json.loads(r.output)
    assert set(data["pack"]) == {"id", "version", "digest"}  # which pack scored the session
    assert lines[1].endswith(f",{data['pack']['id']} {data['pack']['version']} {data['pack']['digest']}")
    assert data["summary"][0]["stages"][0]["answered"] == 1
    assert data["students"][0]["cases"][0]["stages"][0]["points"] == 5  # 25.4 + 29.8 % -> 5
    r = runner.invoke(cli, ["serve", "export", session.id, "--csv", "--summary", "--db", str(db)])
    assert r.exit_code == 0, r.output
    head, first = r.output.splitlines()[:2]
    row = dict(zip(head.split(","), first.split(","), strict=True))
    assert (
        row["answered"] == "1" and row["top_first_pick"] == "aplastic_anemia" and row["mean_points"] == "5.0"
    )
    assert row["engine_top"] == "acute_leukemia" and row["engine_top_listed"] == "1.0"
    r = runner.invoke(cli, ["serve", "export", session.id, "--json", "--summary", "--db", str(db)])
    assert r.exit_code == 2 and "--summary goes with --csv" in r.output
    out = tmp_path / "r.csv"
    out.write_text("keep")
    r = runner.invoke(cli, ["serve", "export", session.id, "--csv", "--db", str(db), "--out", str(out)])
    assert r.exit_code == 2 and "exists" in r.output and out.read_text() == "keep"
    r = runner.invoke(cli, ["serve", "export", "nosuch", "--csv", "--db", str(db)])
    assert r.exit_code == 2 and "no session 'nosuch'" in r.output
    r = runner.invoke(cli, ["serve", "export", session.id, "--db", str(db)])
    assert r.exit_code == 2 and "--csv or --json" in r.output


def test_exports_give_the_teacher_labels_beside_the_machine_ids(tmp_path):
    """A gradebook reader sees 'Aplastic anaemia' and the case title; ids stay in their own columns."""
    import csv
    import io

    db = tmp_path / "class.sqlite3"
    room, session = make_room(db, [CASE])
    room.test_session = session
    s, _ = join(room, "ada")
    advance(teacher(room), session.id)
    picks = ["aplastic_anemia", "outside"]
    s.put(f"/api/s/{session.id}/answer", json={"stage": 0, "picks": picks, "subtype": "very_severe"})
    room.store.close()
    runner = CliRunner()
    rows = list(csv.DictReader(io.StringIO(runner.invoke(cli, ["serve", "export", session.id, "--csv",
                                                                 "--db", str(db)]).output)))  # fmt: skip
    first = rows[0]
    assert (first["pick_1"], first["pick_1_label"]) == ("aplastic_anemia", "Aplastic anaemia")
    assert first["pick_2_label"] == "Something outside this differential" and first["pick_3_label"] == ""
    assert (first["subtype"], first["subtype_label"]) == ("very_severe", "Very severe")
    title = resolve_case(CASE, load_pack()).title
    assert first["case_title"] == title and rows[-1]["case_title"] == title and rows[-1]["stage"] == "total"
    out = runner.invoke(cli, ["serve", "export", session.id, "--csv", "--summary", "--db", str(db)]).output
    summary = next(csv.DictReader(io.StringIO(out)))
    assert (
        summary["top_first_pick"] == "aplastic_anemia"
        and summary["top_first_pick_label"] == "Aplastic anaemia"
    )
    assert summary["engine_top"] == "acute_leukemia" and summary["engine_top_label"] == "Acute leukaemia"
    data = json.loads(runner.invoke(cli, ["serve", "export", session.id, "--json", "--db", str(db)]).output)
    stage = data["students"][0]["cases"][0]["stages"][0]
    assert stage["pick_labels"] == ["Aplastic anaemia", "Something outside this differential"]
    assert stage["subtype_label"] == "Very severe" and data["students"][0]["cases"][0]["title"] == title
    case = data["summary"][0]
    assert case["answer"] == "aplastic_anemia" and case["answer_label"] == "Aplastic anaemia"
    assert case["stages"][0]["engine_top3_labels"][0] == "Acute leukaemia"


def test_the_store_commits_before_returning(tmp_path):
    store = SQLiteStore(tmp_path / "x.sqlite3")
    session = store.create_session([CASE], "class")
    student, secret = store.add_student(session.id, "ana")
    from hemedx.serve.store import Answer

    store.save_answer(session.id, Answer(student.id, 0, 0, ("itp",), None, 1.0))
    other = SQLiteStore(tmp_path / "x.sqlite3")  # a second connection sees it without any close
    assert other.answers(session.id)[0].picks == ("itp",)
    assert other.student_by_secret(session.id, secret) == student
    assert other.student_by_secret(session.id, "guess") is None
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_engine_view_puts_alerts_first_and_never_calls_outside_a_diagnosis():
    from hemedx.serve.deck import OUTSIDE_LABEL, StageMaterial, engine_view

    pack = load_pack()
    case = resolve_case(CASE, pack)
    ranking, report = ranked_report(case, pack, case.snapshot(1), 1, False, next_test=True)
    outside = {**report["differential"][1], "diagnosis": "outside", "label": "outside"}
    report = {
        **report,
        "alerts": [{"text": "Neutrophils 0.3 10^9/L: urgent review", "cites": []}, "plain alert"],
        "differential": [report["differential"][0], outside, *report["differential"][2:]],
    }
    view = engine_view(StageMaterial("s", None, [], report, ranking))
    assert [a["text"] for a in view["alerts"]] == ["Neutrophils 0.3 ×10⁹/L: urgent review", "plain alert"]
    assert view["differential"][1]["label"] == OUTSIDE_LABEL
    assert all(d["label"] != "outside" for d in view["differential"])
    assert OUTSIDE_LABEL in [e["label"] for e in view["explanation"]]


def test_a_subtype_of_the_first_pick_is_kept(room):
    sid = room.test_session.id
    advance(teacher(room), sid)
    s, me = join(room, "ana")
    body = {"stage": 0, "picks": ["aplastic_anemia", "mds"], "subtype": "severe"}
    assert s.put(f"/api/s/{sid}/answer", json=body).status_code == 200
    assert s.get(f"/api/s/{sid}/students/{me}/answers").json()[0]["subtype"] == "severe"
    view = s.get(f"/api/s/{sid}/state").json()
    assert view["subtype_asked"] and view["my_answer"] == {
        "picks": ["aplastic_anemia", "mds"],
        "subtype": "severe",
    }
    assert teacher(room).get(f"/api/t/{sid}/state").json()["answered"] == 1


def test_export_finds_a_served_case_file_given_again(tmp_path):
    from hemedx.cases.loader import load_case
    from hemedx.serve.store import Answer

    from support.helpers import write_case

    path = write_case(tmp_path, [{"findings": {"petechiae": "present"}}], case_id="own-case")
    db = tmp_path / "own.sqlite3"
    store = SQLiteStore(db)
    session = store.create_session([load_case(path, load_pack()).id], "class")
    student, _ = store.add_student(session.id, "ana")
    store.save_answer(session.id, Answer(student.id, 0, 0, ("itp",), None, 1.0))
    store.close()
    runner = CliRunner()
    r = runner.invoke(cli, ["serve", "export", session.id, "--json", "--db", str(db)])
    assert r.exit_code == 2 and "'own-case'" in r.output and "give its case file" in r.output
    r = runner.invoke(cli, ["serve", "export", session.id, str(path), "--json", "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["students"][0]["cases"][0]["stages"][0]["picks"] == ["itp"]


def test_self_study_what_if_only_after_the_engine_view(tmp_path):
    room, _ = make_room(tmp_path / "self.sqlite3", [CASE], session_mode=None)
    s = client(room)
    sid = s.post("/api/self", json={"case": CASE}).json()["session"]
    s.post(f"/api/s/{sid}/advance")
    body = {"stage": 0, "finding": "splenomegaly", "state": "present"}
    r = s.post(f"/api/s/{sid}/whatif", json=body)
    assert r.status_code == 409 and "once the engine's view" in r.json()["error"]
    assert "what_if_findings" not in s.get(f"/api/s/{sid}/state").json()
    s.put(f"/api/s/{sid}/answer", json={"stage": 0, "picks": ["aplastic_anemia"]})
    s.post(f"/api/s/{sid}/advance")
    view = s.get(f"/api/s/{sid}/state").json()
    assert {"id": "splenomegaly", "label": "Splenomegaly", "state": "absent"} in view["what_if_findings"]
    r = s.post(f"/api/s/{sid}/whatif", json=body)
    assert r.status_code == 200, r.text
    pack = load_pack()
    case = resolve_case(CASE, pack)
    snap = case.snapshot(0).with_changes(findings={"splenomegaly": "present"})
    expected = rank_case(case, pack, upto=0, snapshot=snap)
    assert [d["diagnosis"] for d in r.json()["top"]] == [d["diagnosis"] for d in expected["differential"][:5]]
    assert r.json()["summary"] == expected["summary"]
    for bad, status, words in (
        ({"finding": "platelets"}, 400, "finding"),
        ({"state": "maybe"}, 400, "state"),
        ({"stage": 3}, 409, "once the engine's view"),
        ({"stage": True}, 409, "once the engine's view"),
    ):
        r = s.post(f"/api/s/{sid}/whatif", json={**body, **bad})
        assert r.status_code == status and words in r.json()["error"]


def test_real_alerts_lead_the_engine_view_and_outside_is_offered_last(tmp_path):
    from hemedx.serve.deck import OUTSIDE_LABEL, build_case, engine_view
    from hemedx.serve.views import diagnoses

    pack = load_pack()
    material = build_case(resolve_case("aa-very-severe-older-woman", pack), pack)
    report = material.stages[1].report
    assert report["alerts"], "this case raises an alert once the blood count is known"
    view = engine_view(material.stages[1])
    first = view["alerts"][0]
    assert first["text"].startswith(
        report["alerts"][0]["urgency"].upper() + ": " + report["alerts"][0]["label"]
    )
    assert "because" in first["text"] and first["cites"] == report["alerts"][0]["cites"]
    offered = diagnoses(pack)
    if any(d.id == "outside" for d in pack.diagnoses):
        assert offered[-1] == {"id": "outside", "label": OUTSIDE_LABEL, "subtypes": []}
    assert sorted(d["id"] for d in offered) == sorted(d.id for d in pack.diagnoses)
