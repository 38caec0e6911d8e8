"""Hostile input gets bounded work, no silent misreads, no lost user files and one clean line.

Each test here failed on the code before issue 14: a number read as a different number, a traceback, a
hang, an overwritten file or a raw escape sequence. Most run through click's runner; signals, pipes,
encodings and full disks need a real process.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from hemedx.cli import cli
from hemedx.cli.status import ExitStatus
from hemedx.errors import InputError
from hemedx.outfiles import write_file, write_files
from hemedx.rules import default_pack_path
from hemedx.safetext import json_text, json_text_utf8, markdown_text, terminal_text
from hemedx.safeyaml import parse_json, parse_yaml

from support.helpers import MINI_PACK, ROOT

MINI = MINI_PACK
PREFIX = "hemedx: error: "

CASE = """\
id: ok-case
title: A valid case
patient: {{age: {age}, sex: female}}
stages:
  - name: Count
    findings: {{petechiae: present}}
    labs: {{hemoglobin: 9.1, platelets: 20, marrow_blasts: {blasts}}}
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def one_error_line(result: Result, exit_code: int = 2) -> str:
    """The run failed with ``exit_code`` and said so in exactly one line, without a traceback."""
    assert result.exit_code == exit_code, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def write_case(tmp_path: Path, age: str = "40", blasts: str = "3") -> Path:
    path = tmp_path / "case.yaml"
    path.write_text(CASE.format(age=age, blasts=blasts))
    return path


def overlay(tmp_path: Path, files: dict[str, object]) -> Path:
    """An overlay pack on the default one: its pack.yaml plus ``extends: default``, and ``files``."""
    folder = tmp_path / "overlay"
    (folder / "rules").mkdir(parents=True)
    info = yaml.safe_load((default_pack_path() / "pack.yaml").read_text())
    info["extends"] = "default"
    (folder / "pack.yaml").write_text(yaml.safe_dump(info))
    for name, data in files.items():
        (folder / name).write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return folder


def default_diagnosis(**changes: object) -> dict:
    dx = yaml.safe_load((default_pack_path() / "diagnoses.yaml").read_text())["diagnoses"][0]
    dx.update(changes)
    return dx


# --- 1. numbers as YAML 1.2 reads them ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "hint"),
    [
        ("020", "write 20, not 020"),
        ("-007", "write -7, not -007"),
        ("1_000", "write 1000, not 1_000"),
        ("1_0.5", "write 10.5, not 1_0.5"),
        ("0x1F", "e.g. 31"),
        ("0b101", "e.g. 5"),
        ("0o17", "decimal digits"),
        ("1:20", "e.g. 80"),
    ],
)
def test_yaml11_number_spellings_are_refused_with_the_field(spelling, hint):
    with pytest.raises(InputError) as info:
        parse_yaml(f"labs:\n  marrow_blasts: {spelling}\n", "case.yaml")
    err = info.value
    assert (err.file, err.line, err.field) == ("case.yaml", 2, "labs.marrow_blasts")
    assert "not a plain decimal number" in err.message and hint in str(err)


@pytest.mark.parametrize(
    ("spelling", "value"),
    [("20", 20), ("-7", -7), ("+12", 12), ("0", 0), ("020.5", 20.5), (".5", 0.5), ("1.0e+3", 1000.0)],
)
def test_plain_numbers_are_read_as_written(spelling, value):
    assert parse_yaml(f"a: {spelling}\n", "f.yaml").data == {"a": value}


@pytest.mark.parametrize("quoted", ["'020'", '"0x1F"', "'1:20'"])
def test_quoted_text_that_looks_like_a_number_stays_text(quoted):
    assert parse_yaml(f"a: {quoted}\n", "f.yaml").data == {"a": quoted[1:-1]}


def test_octal_looking_blasts_are_an_error_not_sixteen_percent(tmp_path):
    """marrow_blasts: 020 used to be read as 16 (octal): the case then ranked MDS, not leukaemia."""
    line = one_error_line(run("rank", "--rules", str(MINI), str(write_case(tmp_path, blasts="020"))))
    assert line.startswith(f"{PREFIX}{tmp_path / 'case.yaml'}:7:")
    assert "stages[0].labs.marrow_blasts" in line and "write 20, not 020" in line


def test_octal_looking_age_is_an_error(tmp_path):
    line = one_error_line(run("rank", "--rules", str(MINI), str(write_case(tmp_path, age="030"))))
    assert "patient.age" in line and "write 30, not 030" in line


@pytest.mark.parametrize("digits", [16, 5000])
def test_huge_integers_are_an_input_error(tmp_path, digits):
    line = one_error_line(run("rank", "--rules", str(MINI), str(write_case(tmp_path, age="9" * digits))))
    assert f"patient.age: a {digits}-digit integer is out of range" in line


def test_huge_integer_in_json_is_an_input_error():
    with pytest.raises(InputError) as info:
        parse_json('{"patient": {"age": ' + "9" * 5000 + "}}", "case.json")
    assert "5000-digit integer" in str(info.value) and info.value.field == "patient.age"


@pytest.mark.parametrize("prior", [5e-324, 0.00001, 0.99999])
def test_priors_near_zero_or_one_are_refused(tmp_path, prior):
    dx = default_diagnosis()
    dx["prior"]["value"] = prior
    pack = overlay(tmp_path, {"diagnoses.yaml": {"diagnoses": [dx]}})
    line = one_error_line(run("rank", "--rules", str(pack), "aa-young-adult"))
    assert (
        "diagnoses.yaml:" in line
        and f"diagnosis '{dx['id']}' prior.value" in line
        and "must be between" in line
    )


# --- 2. one exit-status map ----------------------------------------------------------------------------

LIBRARY_CASE = "aa-non-severe-older-man"


def hemedx(*args: str, **kwargs: Any) -> subprocess.Popen:
    """A real ``hemedx`` process (pipes, signals and encodings need one)."""
    env = {**os.environ, **kwargs.pop("env", {})}
    env.pop("HEMEDX_DEBUG", None)
    return subprocess.Popen(
        [sys.executable, "-c", "from hemedx.cli import main; main()", *args],
        env=env,
        stdout=kwargs.pop("stdout", subprocess.PIPE),
        stderr=subprocess.PIPE,
        **kwargs,
    )


def test_exit_statuses_are_one_enum():
    assert [(s.name, int(s)) for s in ExitStatus] == [
        ("OK", 0),
        ("FINDINGS", 1),
        ("BAD_INPUT", 2),
        ("INTERNAL", 3),
        ("INTERRUPTED", 130),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rank", "--bogus"], "No such option '--bogus'"),
        (["rnak"], "No such command 'rnak'"),
        (["rank"], "Missing argument 'CASE'"),
        (["generate", "--n", "0", "--diagnosis", "x", "--out", "d"], "Invalid value for '--n'"),
    ],
)
def test_usage_errors_are_one_line(args, message):
    line = one_error_line(run(*args))
    assert line.startswith(PREFIX) and message in line and "--help" in line


def test_an_unexpected_exception_is_one_line_exit_3(monkeypatch):
    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("hemedx.cli.options.load_pack", broken)
    monkeypatch.delenv("HEMEDX_DEBUG", raising=False)
    line = one_error_line(run("rank", LIBRARY_CASE), exit_code=3)
    assert line.startswith("hemedx: internal error, please report") and "RuntimeError: boom" in line


def test_debug_shows_the_traceback_of_an_internal_error(monkeypatch):
    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("hemedx.cli.options.load_pack", broken)
    monkeypatch.setenv("HEMEDX_DEBUG", "1")
    result = run("rank", LIBRARY_CASE)
    assert result.exit_code == 3
    assert "Traceback (most recent call last)" in result.stderr and "RuntimeError: boom" in result.stderr


def test_a_keyboard_interrupt_exits_130_quietly(monkeypatch):
    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("hemedx.cli.options.load_pack", interrupted)
    result = run("rank", LIBRARY_CASE)
    assert result.exit_code == 130 and result.stderr.strip() == ""


@pytest.mark.parametrize("args", [["explain", LIBRARY_CASE], ["rank", LIBRARY_CASE, "--json"]])
def test_a_closed_pipe_is_success_and_silent(args):
    proc = hemedx(*args)
    assert proc.stdout is not None
    proc.stdout.close()  # the reader is gone before hemedx writes: every write is EPIPE
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert err == b""


def test_a_latin1_terminal_gets_replacement_characters_not_a_crash():
    proc = hemedx("rank", LIBRARY_CASE, env={"PYTHONIOENCODING": "latin-1"})
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert b"Aplastic anaemia" in out and b"?" in out and b"Traceback" not in err


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["rank", LIBRARY_CASE], ["rank", LIBRARY_CASE, "--json"]])
def test_stdout_on_a_full_disk_is_one_line(args):
    with open("/dev/full", "w") as full:
        proc = hemedx(*args, stdout=full)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.decode().splitlines() == ["hemedx: error: cannot write the output: No space left on device"]


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_ctrl_c_during_evaluate_is_quiet_in_every_worker():
    proc = hemedx("evaluate", "--generated", "1000000", "--jobs", "2", start_new_session=True)
    deadline = time.monotonic() + 60
    while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(_children(proc.pid)) >= 2, "the worker processes never started"
    time.sleep(3)  # let the workers import hemedx and start evaluating
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip() == b"", err.decode()[-2000:]


# --- 3. output files -----------------------------------------------------------------------------------

GENERATE = ["generate", "--diagnosis", "aiha", "--n", "3", "--seed", "7", "--out"]


def test_generate_never_overwrites_a_hand_edited_case_without_force(tmp_path):
    out = tmp_path / "gen"
    assert run(*GENERATE, str(out)).exit_code == 0
    assert run(*GENERATE, str(out)).exit_code == 0  # the same files again: nothing to lose
    first = sorted(out.iterdir())[0]
    first.write_text("# my notes\n" + first.read_text())
    line = one_error_line(run(*GENERATE, str(out)))
    assert f"{first}: already exists" in line and "--force" in line
    assert first.read_text().startswith("# my notes")
    assert run(*GENERATE, str(out), "--force").exit_code == 0
    assert not first.read_text().startswith("# my notes")


def test_generate_never_writes_through_a_symlink_out_of_the_folder(tmp_path):
    out = tmp_path / "gen"
    assert run(*GENERATE, str(out)).exit_code == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    first = sorted(out.iterdir())[0]
    first.unlink()
    first.symlink_to(victim)
    line = one_error_line(run(*GENERATE, str(out)))
    assert "symbolic link" in line and victim.read_text() == "precious"
    assert run(*GENERATE, str(out), "--force").exit_code == 0
    assert victim.read_text() == "precious" and not first.is_symlink()  # the link was replaced, not followed


def test_rules_docs_keeps_an_edited_page_without_force(tmp_path):
    out = tmp_path / "docs"
    assert run("rules", "docs", "--out", str(out)).exit_code == 0
    page = out / "index.md"
    page.write_text("mine")
    line = one_error_line(run("rules", "docs", "--out", str(out)))
    assert f"{page}: already exists" in line and page.read_text() == "mine"
    assert run("rules", "docs", "--out", str(out), "--force").exit_code == 0 and page.read_text() != "mine"


def test_present_keeps_an_existing_file_without_force(tmp_path):
    target = tmp_path / "talk.html"
    target.write_text("my slides")
    line = one_error_line(run("present", LIBRARY_CASE, "--out", str(target)))
    assert "already exists" in line and target.read_text() == "my slides"
    assert run("present", LIBRARY_CASE, "--out", str(target), "--force").exit_code == 0
    assert "<html" in target.read_text()


def test_rules_schema_out_needs_force_to_replace_a_changed_schema(tmp_path):
    assert run("rules", "schema", "--out", str(tmp_path)).exit_code == 0
    (tmp_path / "case.schema.json").write_text("{}")
    assert "already exists" in one_error_line(run("rules", "schema", "--out", str(tmp_path)))
    assert run("rules", "schema", "--out", str(tmp_path), "--force").exit_code == 0
    assert run("rules", "schema", "--check", "--out", str(tmp_path)).exit_code == 0


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("/proc/hemedx-talk.html", "cannot write"),
        ("/no/such/folder/talk.html", "does not exist"),
        ("/dev/full", "not a regular file"),
    ],
)
def test_unwritable_present_targets_are_one_line(target, message):
    if not Path(target).parent.exists() and target.startswith("/proc"):
        pytest.skip("needs /proc")
    line = one_error_line(run("present", LIBRARY_CASE, "--out", target))
    assert message in line


def test_unwritable_out_folders_are_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert "is a file" in one_error_line(run(*GENERATE, str(blocker)))  # click checks this one
    assert "cannot create" in one_error_line(run("rules", "docs", "--out", str(blocker / "sub")))


def test_an_interrupted_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "talk.html"
    target.write_text("old slides")

    def disk_full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    line = one_error_line(run("present", LIBRARY_CASE, "--out", str(target), "--force"))
    assert "No space left on device" in line
    assert target.read_text() == "old slides"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["talk.html"]  # no temporary file left behind


def test_ctrl_c_mid_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "page.md"
    target.write_text("old")

    def interrupted(_fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_file(target, "new", force=True)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["page.md"]


def test_a_name_cannot_lead_out_of_the_folder(tmp_path):
    with pytest.raises(InputError, match="lead out of the output folder"):
        write_files(tmp_path / "out", {"../escape.md": "x"})
    assert not (tmp_path / "escape.md").exists()


# --- 4. only regular files, and only so much of them ----------------------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_a_case_that_is_not_a_regular_file_is_refused_before_reading(tmp_path, kind):
    if kind == "fifo":
        path = tmp_path / "case.yaml"
        os.mkfifo(path)  # opening it for reading used to block for ever
        expected = "is a named pipe (FIFO), not a regular file; expected a case file"
    elif kind == "device":
        path = Path("/dev/zero")  # reading it used to go on for ever
        expected = "is a device, not a regular file; expected a case file"
    else:
        path = tmp_path
        expected = "is a directory, expected a case file (.yaml or .json)"
    line = one_error_line(run("rank", "--rules", str(MINI), str(path)))
    assert line == f"{PREFIX}{path}: {expected}"


def test_a_pack_file_that_is_a_fifo_or_device_is_refused(tmp_path):
    pack = overlay(tmp_path, {})
    os.mkfifo(pack / "rules" / "extra.yaml")
    for args in (["rank", "--rules", str(pack), LIBRARY_CASE], ["rules", "check", "--rules", str(pack)]):
        line = one_error_line(run(*args))
        assert line.endswith(
            "rules/extra.yaml: is a named pipe (FIFO), not a regular file; expected a pack file"
        )
    (pack / "rules" / "extra.yaml").unlink()
    (pack / "rules" / "zero.yaml").symlink_to("/dev/zero")
    assert "zero.yaml: is a device" in one_error_line(run("rules", "check", "--rules", str(pack)))


def test_a_huge_case_file_is_refused_after_reading_at_most_the_limit(tmp_path):
    path = tmp_path / "case.yaml"
    with path.open("wb") as out:
        out.truncate(3_000_000_000)  # sparse: 3 GB that reading whole would need in memory
    started = time.monotonic()
    line = one_error_line(run("rank", "--rules", str(MINI), str(path)))
    assert line == f"{PREFIX}{path}: file is larger than 2 MB"
    assert time.monotonic() - started < 10


# --- 5. every expansion bounded before it is built -------------------------------------------------------


def _syndrome(rule_id: str, when: dict) -> dict:
    return {
        "id": rule_id,
        "kind": "syndrome",
        "title": "A hostile rule",
        "explanation": "Written to expand as far as possible.",
        "when": when,
        "then": {"finding": "pancytopenia"},
        "cites": [{"source": "statpearls-pancytopenia"}],
    }


def _findings(n: int) -> list[str]:
    vocab = yaml.safe_load((default_pack_path() / "vocabulary.yaml").read_text())
    return [f["id"] for f in vocab["findings"]][:n]


def _bands(lab: str) -> int:
    vocab = yaml.safe_load((default_pack_path() / "vocabulary.yaml").read_text())
    return len(next(x for x in vocab["labs"] if x["id"] == lab)["reference"])


HOSTILE = {
    "syn.any_of_any": (
        {"all": [{"any": [{"finding": f} for f in _findings(20)]} for _ in range(20)]},
        "more than 1,000,000,000,000,000",
    ),
    "syn.twelve_of_thirty": ({"at_least": 12, "of": [{"finding": f} for f in _findings(30)]}, "86,493,225"),
    # 2^4 = 16 conjunctions, but each of haemoglobin's reference bands is an alternative: with B bands,
    # (B + 1)^4 (6 bands: 2,401). The old guard counted the 16 and then built them all.
    "syn.banded": (
        {
            "all": [
                {"any": [{"lab": "hemoglobin", "below": "lower_limit"}, {"finding": f}]}
                for f in ("pallor", "fatigue", "bleeding", "fever")
            ]
        },
        f"{(_bands('hemoglobin') + 1) ** 4:,}",
    ),
}


@pytest.mark.parametrize("rule_id", sorted(HOSTILE))
def test_an_exploding_rule_is_refused_at_once_by_rank_and_rules_check(tmp_path, rule_id):
    when, count = HOSTILE[rule_id]
    pack = overlay(tmp_path, {"rules/hostile.yaml": {"rules": [_syndrome(rule_id, when)]}})
    started = time.monotonic()
    line = one_error_line(run("rank", "--rules", str(pack), LIBRARY_CASE))
    assert f"rule '{rule_id}' expands into" in line and count in line and "(limit 256)" in line
    assert "hostile.yaml:" in line
    checked = run("rules", "check", "--rules", str(pack), "--json")
    assert checked.exit_code == 1
    issues = [i for i in json.loads(checked.stdout)["issues"] if i["code"] == "HX205"]
    assert [i["rule"] for i in issues] == [rule_id] and count in issues[0]["message"]
    assert time.monotonic() - started < 30  # it used to hang or exhaust memory


def test_the_count_is_exact_for_every_rule_of_the_default_pack():
    from hemedx.engine.compiler import compile_pack
    from hemedx.rules import load_pack
    from hemedx.rules.conditions import count_alternatives

    pack = load_pack()
    labs = {lab.id: lab for lab in pack.vocabulary.labs}
    built = compile_pack(pack).variants
    for rule in pack.rules:
        assert count_alternatives(rule.when, labs) >= sum(v.rule_id == rule.id for v in built), rule.id


def _copies(n: int) -> list[dict]:
    return [
        _syndrome(f"syn.copy_{i:03d}", {"all": [{"finding": "fever"}, {"finding": "pallor"}]})
        for i in range(n)
    ]


def test_more_rules_on_one_pattern_than_durable_links_is_an_input_error(tmp_path):
    """256 alternatives on one condition is durable_rules' limit (error 108 beyond it, a traceback)."""
    pack = overlay(tmp_path, {"rules/copies.yaml": {"rules": _copies(300)}})
    line = one_error_line(run("rank", "--rules", str(pack), LIBRARY_CASE))
    assert "rule alternatives test the same finding condition on 'fever' (limit 256)" in line
    checked = run("rules", "check", "--rules", str(pack), "--json")
    assert checked.exit_code == 1
    assert any(
        "(limit 256)" in i["message"] for i in json.loads(checked.stdout)["issues"] if i["code"] == "HX205"
    )


def test_just_under_the_pattern_limit_runs(tmp_path):
    from hemedx import load_pack
    from hemedx.engine.compiler import compile_pack

    def on(name: str) -> int:  # alternatives the default pack already has on "<name> present"
        present = (("state", "eq", "present"),)
        return sum(
            p.kind == "finding" and p.name == name and p.constraints == present
            for v in compile_pack(load_pack()).variants
            for p in v.patterns
        )

    headroom = 256 - max(on("fever"), on("pallor"))
    assert headroom > 50
    pack = overlay(tmp_path, {"rules/copies.yaml": {"rules": _copies(headroom)}})
    assert run("rank", "--rules", str(pack), LIBRARY_CASE, "--json").exit_code == 0


def test_a_pack_with_no_diagnoses_is_one_line(tmp_path):
    import shutil

    pack = tmp_path / "pack"
    shutil.copytree(MINI, pack)
    (pack / "diagnoses.yaml").write_text("diagnoses: []\n")
    line = one_error_line(run("rank", "--rules", str(pack), str(write_case(tmp_path))))
    assert "a pack needs at least one diagnosis" in line
    checked = run("rules", "check", "--rules", str(pack))
    assert checked.exit_code == 1 and "a pack needs at least one diagnosis" in checked.stdout


def test_a_case_with_too_many_stages_is_refused_before_any_inference(tmp_path):
    case = {
        "id": "many-stages",
        "title": "Five thousand stages",
        "patient": {"age": 40, "sex": "female"},
        "stages": [{"name": f"stage {i}", "findings": {"petechiae": "present"}} for i in range(5000)],
    }
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(case))
    started = time.monotonic()
    line = one_error_line(run("walkthrough", "--auto", "--rules", str(MINI), str(path)))
    assert "stages: List should have at most 50 items" in line
    assert time.monotonic() - started < 20


# --- 6. pack and case text is inert where it is shown -------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
ESCAPES = "\x1b[2J\x1b]0;owned\x07\x9b31m\u202e"


def test_rules_docs_escapes_pack_text(tmp_path):
    rule = _syndrome("syn.injected", {"all": [{"finding": "fever"}, {"finding": "pallor"}]})
    rule["title"] = f"Fever {SCRIPT}"
    rule["explanation"] = "See [here](javascript:alert(1)).\n\n# Not a heading\n<img src=x onerror=alert(1)>"
    pack = overlay(tmp_path, {"rules/injected.yaml": {"rules": [rule]}})
    out = tmp_path / "docs"
    assert run("rules", "docs", "--rules", str(pack), "--out", str(out)).exit_code == 0
    text = "".join(p.read_text() for p in out.iterdir())
    assert "<script" not in text and "<img" not in text and "[here](javascript:" not in text
    assert "\n# Not a heading" not in text
    assert "Fever &lt;script&gt;alert(1)&lt;/script&gt;" in (out / "syndrome.md").read_text()
    assert "| Fever &lt;script&gt;" in (out / "index.md").read_text()


def test_markdown_text_is_one_inert_line():
    assert markdown_text("a | b *c* [d](e) `f` #g\nh & <i>") == (
        "a \\| b \\*c\\* \\[d\\](e) \\`f\\` \\#g h &amp; &lt;i&gt;"
    )


def test_present_keeps_a_script_in_a_case_title_inert(tmp_path):
    case = yaml.safe_load(CASE.format(age="40", blasts="3"))
    case["title"] = f"Bruising {SCRIPT}"
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(case))
    out = tmp_path / "talk.html"
    assert run("present", "--rules", str(MINI), str(path), "--out", str(out)).exit_code == 0
    html = out.read_text()
    assert "alert(1)" in html and SCRIPT not in html and "<\\/script>" not in html
    assert html.count("<script") == (ROOT / "hemedx" / "present" / "template.html").read_text().count(
        "<script"
    )


@pytest.mark.parametrize("command", [["rank"], ["explain"], ["walkthrough", "--auto"], ["cases", "show"]])
def test_terminal_output_never_carries_control_characters_from_a_case(tmp_path, command):
    case = yaml.safe_load(CASE.format(age="40", blasts="3"))
    case["title"] = f"Bruising {ESCAPES} title"
    case["presentation"] = f"Presented {ESCAPES} here"
    case["stages"][0]["name"] = f"Count {ESCAPES}"
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(case, allow_unicode=True))
    result = run(*command, "--rules", str(MINI), str(path))
    assert result.exit_code == 0, result.output
    assert "Bruising [2J]0;owned31m title" in result.stdout  # the text stays, its controls go
    for char in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert char not in result.output


def test_error_lines_never_carry_control_characters(tmp_path):
    case = yaml.safe_load(CASE.format(age="40", blasts="3"))
    case["stages"][0]["findings"] = {"petechiae\x1b[2J": "present"}
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(case))
    line = one_error_line(run("rank", "--rules", str(MINI), str(path)))
    assert "\x1b" not in line and "petechiae[2J" in line


def test_terminal_text_drops_controls_and_keeps_layout():
    assert terminal_text("a\x1b[31mb\tc\nd\x00\x7f\x85e\u2066f") == "a[31mb\tc\ndef"


def test_a_nul_byte_names_line_and_field():
    with pytest.raises(InputError) as info:
        parse_yaml("id: x\nstages:\n  - name: a\x00b\n", "case.yaml")
    assert (info.value.line, info.value.column, info.value.field) == (3, 12, "stages[0].name")
    assert "control character U+0000" in info.value.message


def test_json_output_escapes_the_controls_json_leaves_raw(tmp_path):
    case = yaml.safe_load(CASE.format(age="40", blasts="3"))
    case["title"] = "Bruising \x9b31m \u202e title"
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(case, allow_unicode=True))
    result = run("rank", "--rules", str(MINI), str(path), "--json")
    assert result.exit_code == 0
    assert "\x9b" not in result.stdout and "\u202e" not in result.stdout
    assert json.loads(result.stdout)["title"] == case["title"]  # the same data, only spelled safely


def test_the_byte_check_of_json_output_never_misses_a_control():
    """json_text_utf8 skips the regex only when no control can be there: every code point agrees."""
    for code in [*range(0x80, 0x3000), *range(0xFFF0, 0x10000), 0x10FFFF]:
        if 0xD800 <= code <= 0xDFFF:
            continue  # surrogates cannot be encoded
        text = f'{{"t": "a{chr(code)}b — ≥"}}'
        assert json_text_utf8(text.encode()) == json_text(text), hex(code)
    assert json_text_utf8(b'"\x7f"') == '"\\u007f"'
    assert json_text_utf8(b"plain ascii") == "plain ascii"


def test_a_pack_too_big_in_total_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr("hemedx.rules.reader.MAX_PACK_BYTES", 100_000)  # the default pack is larger
    pack = overlay(tmp_path, {})
    line = one_error_line(run("rank", "--rules", str(pack), LIBRARY_CASE))
    assert "the pack's files add up to more than" in line


def test_a_rules_folder_with_too_many_entries_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("hemedx.rules.reader.MAX_PACK_FILES", 5)
    pack = overlay(tmp_path, {f"rules/r{i}.yaml": "rules: []\n" for i in range(6)})
    for args in (["rank", "--rules", str(pack), LIBRARY_CASE], ["rules", "check", "--rules", str(pack)]):
        assert "more than 5 entries in the rules folder" in one_error_line(run(*args))


def test_quiz_refuses_an_endless_answer_line():
    """``hemedx quiz X < /dev/zero`` read one line for ever; an answer line is bounded."""
    result = CliRunner().invoke(cli, ["quiz", LIBRARY_CASE], input="a" * 100_000)
    line = one_error_line(result)
    assert line == f"{PREFIX}stdin: an answer line is longer than 4096 characters"


@pytest.mark.parametrize("args", [[], ["rules"], ["cases"]])
def test_a_group_without_its_command_shows_the_help(args):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith("Usage:") and "Commands:" in result.stderr


def test_a_pack_with_too_many_rules_is_refused_by_rank_and_rules_check(tmp_path, monkeypatch):
    monkeypatch.setattr("hemedx.rules.checks.MAX_RULES", 160)  # the default pack has about 150
    pack = overlay(tmp_path, {"rules/copies.yaml": {"rules": _copies(20)}})
    line = one_error_line(run("rank", "--rules", str(pack), LIBRARY_CASE))
    assert "rules (limit 160)" in line and "pack.yaml" in line
    checked = run("rules", "check", "--rules", str(pack))
    assert checked.exit_code == 1 and "rules (limit 160)" in checked.stdout
