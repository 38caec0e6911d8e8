"""Unit tests of the strict YAML/JSON reader: data only, positions kept, every trick refused."""

from __future__ import annotations

import pytest

from hemedx import safeyaml
from hemedx.errors import InputError
from hemedx.safeyaml import Document, load_file, parse_json, parse_yaml


def yaml_error(text: str) -> InputError:
    with pytest.raises(InputError) as info:
        parse_yaml(text, "f.yaml")
    err = info.value
    assert err.file == "f.yaml"
    assert "\n" not in str(err)
    return err


def json_error(text: str) -> InputError:
    with pytest.raises(InputError) as info:
        parse_json(text, "f.json")
    err = info.value
    assert err.file == "f.json"
    assert "\n" not in str(err)
    return err


# --- positions -------------------------------------------------------------------------------------------

NESTED = """\
id: x
stages:
  - name: A
    labs:
      hemoglobin: 9.1
  - name: B
    labs: {anc: 0.3, platelets: 20}
"""


def test_plain_data_comes_back():
    doc = parse_yaml(NESTED, "f.yaml")
    assert isinstance(doc, Document)
    assert doc.file == "f.yaml"
    assert doc.data == {
        "id": "x",
        "stages": [
            {"name": "A", "labs": {"hemoglobin": 9.1}},
            {"name": "B", "labs": {"anc": 0.3, "platelets": 20}},
        ],
    }


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ((), (1, 1)),
        (("id",), (1, 1)),
        (("stages",), (2, 1)),
        (("stages", 0), (3, 5)),
        (("stages", 0, "labs", "hemoglobin"), (5, 7)),
        (("stages", 1), (6, 5)),
        (("stages", 1, "labs"), (7, 5)),
        (("stages", 1, "labs", "anc"), (7, 12)),
        (("stages", 1, "labs", "platelets"), (7, 22)),
    ],
)
def test_positions_are_recorded(path, where):
    assert parse_yaml(NESTED, "f.yaml").positions[path] == where


def test_where_falls_back_to_the_deepest_known_prefix():
    doc = parse_yaml(NESTED, "f.yaml")
    assert doc.where(["stages", 1, "labs", "anc", "unit"]) == (7, 12)
    assert doc.where(("stages", 5, "labs")) == (2, 1)
    assert doc.where(("nothing",)) == (1, 1)


def test_document_error_is_located():
    err = parse_yaml(NESTED, "f.yaml").error(("stages", 0, "labs", "hemoglobin"), "too low", "raise it")
    assert (err.file, err.line, err.column, err.field) == ("f.yaml", 5, 7, "stages[0].labs.hemoglobin")
    assert str(err) == "f.yaml:5:7: stages[0].labs.hemoglobin: too low (raise it)"


def test_json_documents_have_positions():
    doc = parse_json('{"a": {"b": 1}}', "f.json")
    assert doc.data == {"a": {"b": 1}}
    assert doc.where(("a", "b")) == (1, 8)


# --- duplicate keys ----------------------------------------------------------------------------------


def test_duplicate_top_level_key():
    err = yaml_error("a: 1\nb: 2\na: 3\n")
    assert (err.line, err.column) == (3, 1)
    assert "duplicate key 'a', first given on line 1" in str(err)
    assert err.hint == "keep one of them"


def test_duplicate_nested_key_mentions_first_line():
    err = yaml_error("a: 1\nb:\n  c: 2\n  d: 3\n  c: 4\n")
    assert (err.line, err.column) == (5, 3)
    assert err.field == "b"
    assert "duplicate key 'c', first given on line 3" in str(err)


def test_duplicate_key_in_flow_mapping():
    err = yaml_error("labs: {hemoglobin: 9, anc: 1, hemoglobin: 8}\n")
    assert err.line == 1
    assert err.field == "labs"
    assert "duplicate key 'hemoglobin'" in str(err)


def test_duplicate_key_inside_list_item():
    err = yaml_error("stages:\n  - name: A\n  - name: B\n    name: C\n")
    assert (err.line, err.field) == (4, "stages[1]")
    assert "first given on line 3" in str(err)


def test_same_key_in_different_mappings_is_fine():
    assert parse_yaml("a: {x: 1}\nb: {x: 2}\n", "f.yaml").data == {"a": {"x": 1}, "b": {"x": 2}}


# --- tags ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param(
            "a: !!python/object/apply:os.system ['touch {m}']\n",
            "!!python/object/apply:os.system",
            id="python-object-apply",
        ),
        pytest.param(
            "a: !!python/object/new:os.system ['touch {m}']\n",
            "!!python/object/new:os.system",
            id="python-object-new",
        ),
        pytest.param(
            "a: !!python/object/apply:os.system {{args: ['touch {m}']}}\n",
            "!!python/object/apply:os.system",
            id="python-apply-mapping-form",
        ),
        pytest.param("a: !!python/name:os.system\n", "!!python/name:os.system", id="python-name"),
        pytest.param("a: !!python/module:os\n", "!!python/module:os", id="python-module"),
        pytest.param("a: !!python/tuple [1, 2]\n", "!!python/tuple", id="python-tuple"),
        pytest.param(
            "a: !!python/object:os.PathLike {{}}\n", "!!python/object:os.PathLike", id="python-object"
        ),
        pytest.param(
            "!!python/object/apply:os.system ['touch {m}']\n",
            "!!python/object/apply:os.system",
            id="python-at-top-level",
        ),
        pytest.param(
            "a: !<tag:yaml.org,2002:python/object/apply:os.system> ['touch {m}']\n",
            "!!python/object/apply:os.system",
            id="verbatim-tag",
        ),
        pytest.param(
            "%TAG !p! tag:yaml.org,2002:python/\n---\na: !p!object/apply:os.system ['touch {m}']\n",
            "!!python/object/apply:os.system",
            id="tag-directive",
        ),
        pytest.param("a: !!set {{x, y}}\n", "!!set", id="set"),
        pytest.param("a: !!binary aGVsbG8=\n", "!!binary", id="binary"),
        pytest.param("a: !!omap [x: 1]\n", "!!omap", id="omap"),
        pytest.param("a: !!pairs [x: 1]\n", "!!pairs", id="pairs"),
        pytest.param("a: !foo bar\n", "!foo", id="custom-scalar"),
        pytest.param("a: !foo [1]\n", "!foo", id="custom-sequence"),
        pytest.param("a: !foo {{b: 1}}\n", "!foo", id="custom-mapping"),
        pytest.param("a: !<tag:example.com,2024:thing> x\n", "tag:example.com,2024:thing", id="foreign-tag"),
    ],
)
def test_tags_are_refused_and_never_run(tmp_path, text, shown):
    marker = tmp_path / "pwned"
    err = yaml_error(text.format(m=marker))
    assert f"YAML tag '{shown}' is not allowed" in str(err)
    assert err.line is not None
    assert not marker.exists()


def test_tag_error_names_the_field_and_line():
    err = yaml_error("a: 1\nb:\n  c: !!python/name:os.system\n")
    assert (err.line, err.column, err.field) == (3, 6, "b.c")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a: !!str 1\n", "1"),
        ("a: !!int '3'\n", 3),
        ("a: !!float 1\n", 1.0),
        ("a: !!bool true\n", True),
        ("a: !!null ''\n", None),
        ("a: !!seq [1]\n", [1]),
        ("a: !!map {b: 1}\n", {"b": 1}),
    ],
)
def test_core_tags_are_plain_values(text, value):
    assert parse_yaml(text, "f.yaml").data == {"a": value}


# --- aliases, anchors and merge keys ---------------------------------------------------------------------


def test_mapping_alias_is_refused_at_the_alias():
    err = yaml_error("a: &x {b: 1}\nc: *x\n")
    assert "anchors and aliases are not allowed" in str(err)
    assert (err.line, err.field) == (2, "c")


def test_sequence_alias_is_refused():
    err = yaml_error("a: &x [1, 2]\nb:\n  c: *x\n")
    assert "anchors and aliases are not allowed" in str(err)
    assert (err.line, err.field) == (3, "b.c")


def test_billion_laughs_is_refused_quickly():
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    err = yaml_error("\n".join(lines) + "\n")
    assert "anchors and aliases are not allowed" in str(err)
    assert err.field == "l1[0]"


@pytest.mark.parametrize(
    "text", ["a: &x [1]\nb: [*x]\n", "a: &x {c: 1}\nb:\n  - *x\n"], ids=["flow", "block"]
)
def test_alias_in_a_list_is_reported_at_the_alias(text):
    err = yaml_error(text)
    assert err.field == "b[0]"
    assert err.line == len(text.splitlines())


def test_undefined_alias_is_refused_at_the_alias():
    err = yaml_error("a: [1, *nope]\n")
    assert "aliases are not allowed" in str(err) and err.field == "a[1]"
    assert (err.line, err.column) == (1, 8)


def test_scalar_alias_is_refused():
    err = yaml_error("a: &x 9.1\nb: *x\n")
    assert "anchors and aliases are not allowed" in str(err)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a:\n  <<: {b: 1}\n  c: 2\n", id="inline"),
        pytest.param("a:\n  <<: [{b: 1}, {d: 2}]\n", id="list"),
        pytest.param("base: &b {x: 1}\na:\n  <<: *b\n", id="alias"),
    ],
)
def test_merge_keys_are_refused(text):
    err = yaml_error(text)
    assert "no merge keys" in str(err)
    assert err.field == "a"
    assert err.line == text.splitlines().index(next(li for li in text.splitlines() if "<<" in li)) + 1


@pytest.mark.parametrize(
    "text", ["? [a, b]\n: 1\n", "? {a: 1}\n: 1\n", "{[a]: 1}\n"], ids=["seq-key", "map-key", "flow-seq-key"]
)
def test_complex_keys_are_refused(text):
    assert "only plain text keys" in str(yaml_error(text))


# --- numbers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [".nan", ".NaN", ".NAN", ".inf", ".Inf", "+.inf", "-.inf", "-.INF", "1.0e+400"]
)
def test_non_finite_numbers_are_refused(value):
    err = yaml_error(f"a:\n  b: {value}\n")
    assert f"'{value}' is not a finite number" in str(err)
    assert (err.line, err.column, err.field) == (2, 6, "a.b")


@pytest.mark.parametrize(
    ("text", "value"), [("nan", "nan"), ("inf", "inf"), ("'.nan'", ".nan"), ("1e400", "1e400")]
)
def test_words_that_only_look_like_numbers_stay_text(text, value):
    assert parse_yaml(f"a: {text}\n", "f.yaml").data == {"a": value}


def test_ordinary_numbers():
    assert parse_yaml("a: 1\nb: -2.5\nc: 1.0e+3\nd: 0\n", "f.yaml").data == {
        "a": 1,
        "b": -2.5,
        "c": 1000.0,
        "d": 0,
    }


# --- dates -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["2020-01-01", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5"],
)
def test_dates_are_kept_as_text(text):
    assert parse_yaml(f"a: {text}\n", "f.yaml").data == {"a": text}


def test_explicit_timestamp_tag_is_kept_as_text():
    assert parse_yaml("a: !!timestamp 2020-01-01\n", "f.yaml").data == {"a": "2020-01-01"}


# --- empty, several documents, malformed ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\n", "# just a comment\n"], ids=["empty", "blank", "comment"])
def test_empty_yaml(text):
    err = yaml_error(text)
    assert "file is empty" in str(err)
    assert err.line is None


def test_explicit_empty_document_is_empty():
    for text in ("---\n", "~\n", "null\n"):
        assert "file is empty" in str(yaml_error(text))


def test_multiple_documents_are_refused():
    err = yaml_error("a: 1\n---\nb: 2\n")
    assert "not valid YAML" in str(err)
    assert err.line == 2


def test_malformed_yaml_has_line_and_column():
    err = yaml_error("a: 1\nb: [unclosed\nc: 2\n")
    assert str(err).startswith("f.yaml:")
    assert "not valid YAML" in str(err)
    assert err.line is not None
    assert err.column is not None


def test_tab_indentation():
    err = yaml_error("a:\n\tb: 1\n")
    assert "not valid YAML" in str(err)
    assert err.line == 2


def test_bom_in_text():
    assert parse_yaml("\ufeffa: 1\n", "f.yaml").data == {"a": 1}


# --- JSON --------------------------------------------------------------------------------------------------


def test_json_plain():
    assert parse_json('{"a": [1, 2.5, "x", null, true]}', "f.json").data == {"a": [1, 2.5, "x", None, True]}


@pytest.mark.parametrize(
    "text",
    ['{"a": 1, "a": 2}', '{"b": {"a": 1, "a": 2}}', '[{"a": 1, "a": 1}]'],
    ids=["top", "nested", "in-list"],
)
def test_json_duplicate_keys(text):
    err = json_error(text)
    assert "duplicate key 'a'" in str(err)
    assert err.hint == "keep one of them"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_non_finite_constants(constant):
    assert f"'{constant}' is not a finite number" in str(json_error(f'{{"a": {{"b": {constant}}}}}'))


def test_json_overflow_to_infinity_is_refused():
    assert "not a finite number" in str(json_error('{"a": 1e400}'))


def test_json_nan_error_names_the_field():
    assert json_error('{"a": {"b": NaN}}').field == "a.b"


@pytest.mark.parametrize(
    ("text", "where"), [('{"a": ', (1, 7)), ('{"a": 1}\n{', (2, 1)), ("{'a': 1}", (1, 2))]
)
def test_json_malformed_has_line_and_column(text, where):
    err = json_error(text)
    assert "not valid JSON" in str(err)
    assert (err.line, err.column) == where


@pytest.mark.parametrize("text", ["", "  \n\t"], ids=["empty", "blank"])
def test_json_empty(text):
    assert "file is empty" in str(json_error(text))


def test_json_too_deep():
    assert "nested too deeply" in str(json_error("[" * 100_000 + "]" * 100_000))


# --- files -----------------------------------------------------------------------------------------------


def test_load_file_picks_json_by_suffix(tmp_path):
    yaml_like = tmp_path / "a.JSON"
    yaml_like.write_text("a: 1\n")
    with pytest.raises(InputError, match="not valid JSON"):
        load_file(yaml_like)
    (tmp_path / "b.yml").write_text('{"a": 1}')
    assert load_file(tmp_path / "b.yml").data == {"a": 1}  # JSON is YAML too


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_load_file_strips_bom(tmp_path, suffix):
    path = tmp_path / f"a{suffix}"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"a": 1}')
    assert load_file(path).data == {"a": 1}


@pytest.mark.parametrize(
    ("raw", "byte"),
    [(b"a: caf\xe9\n", 6), (b"\xff\xfea\x00:\x00", 0), (b"a: 1\n\x80\n", 5)],
    ids=["latin-1", "utf-16", "stray-continuation"],
)
def test_load_file_rejects_non_utf8(tmp_path, raw, byte):
    path = tmp_path / "a.yaml"
    path.write_bytes(raw)
    with pytest.raises(InputError) as info:
        load_file(path)
    assert str(info.value) == f"{path}: not UTF-8 text (byte {byte})"


def test_load_file_missing(tmp_path):
    with pytest.raises(InputError) as info:
        load_file(tmp_path / "nope.yaml", "case")
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: no such case file"


def test_load_file_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory") as info:
        load_file(tmp_path, "case")
    assert info.value.file == str(tmp_path)


def test_load_file_too_large(tmp_path, monkeypatch):
    monkeypatch.setattr(safeyaml, "MAX_BYTES", 1_000_000)
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 1_000_001 + "\n")
    with pytest.raises(InputError, match="larger than 1 MB"):
        load_file(path)


def test_load_file_positions_from_disk(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("a: 1\nb:\n  c: 2\n")
    doc = load_file(path)
    assert doc.file == str(path)
    assert doc.positions[("b", "c")] == (3, 3)
