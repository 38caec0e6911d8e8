"""Property and fuzz tests (hypothesis, bounded example counts so `make test` stays fast)."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_reference_differential import random_snapshot

from hemedx import get_engine, load_pack
from hemedx.cases.loader import parse_case
from hemedx.errors import InputError
from hemedx.rules.model import EvidenceRule
from hemedx.safeyaml import parse_json, parse_yaml

PACK = load_pack()
ENGINE = get_engine(PACK)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _evidence_only_findings() -> list[EvidenceRule]:
    """Evidence rules on findings that no other rule reads or replaces: adding one changes one factor."""
    read = set()
    for rule in PACK.rules:
        if rule.kind != "evidence":
            read |= {repr(rule.when)}
    replaced = {f for r in PACK.rules if isinstance(r, EvidenceRule) for f in r.then.replaces}
    out = []
    for rule in PACK.rules:
        if not isinstance(rule, EvidenceRule) or rule.when.is_ == "absent":
            continue
        name = rule.when.finding
        used_elsewhere = any(f"finding='{name}'" in text for text in read)
        several = sum(isinstance(r, EvidenceRule) and r.when.finding == name for r in PACK.rules) > 1
        if not used_elsewhere and not several and name not in replaced and not rule.then.replaces:
            out.append(rule)
    return out


EVIDENCE_ONLY = _evidence_only_findings()
assert len(EVIDENCE_ONLY) >= 5, "too few pure-evidence findings for the monotonicity property"


# --- the loader never crashes: clean InputError or a Case -------------------------------------------------

yaml_ish = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes_never_crash_the_yaml_reader(data):
    text = data.decode("utf-8", errors="replace")
    for parse in (parse_yaml, parse_json):
        try:
            doc = parse(text, "fuzz.yaml")
        except InputError as exc:
            assert "\n" not in str(exc)
            continue
        try:
            parse_case(doc, PACK)
        except InputError as exc:
            assert "\n" not in str(exc) and "fuzz.yaml" in str(exc)


@SETTINGS
@given(yaml_ish)
def test_random_structures_never_crash_the_case_loader(data):
    import yaml

    text = yaml.safe_dump(data)
    try:
        parse_case(parse_yaml(text, "fuzz.yaml"), PACK)
    except InputError as exc:
        assert "\n" not in str(exc)


case_shaped = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["ok-1", "Bad Id", 5, None]),
        "title": st.text(max_size=10),
        "patient": st.fixed_dictionaries(
            {
                "age": st.one_of(st.integers(-5, 130), st.text(max_size=3)),
                "sex": st.sampled_from(["female", "male", "x"]),
            }
        ),
        "stages": st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.text(min_size=1, max_size=8),
                    "labs": st.dictionaries(
                        st.sampled_from(["hemoglobin", "platelets", "hb", "marrow_blasts"]),
                        st.one_of(
                            st.floats(allow_nan=True, allow_infinity=True),
                            st.integers(-10, 10**7),
                            st.text(max_size=4),
                            st.fixed_dictionaries(
                                {"value": st.floats(-1, 1e6), "unit": st.sampled_from(["g/L", "/uL", "mg"])}
                            ),
                        ),
                        max_size=3,
                    ),
                    "findings": st.dictionaries(
                        st.sampled_from(["petechiae", "fever", "feverr"]),
                        st.sampled_from(["present", "absent", "unknown", "yes"]),
                        max_size=2,
                    ),
                    "tests": st.dictionaries(
                        st.sampled_from(["dat", "datt"]), st.sampled_from(["igg", "pos"]), max_size=1
                    ),
                }
            ),
            max_size=3,
        ),
    }
)


@SETTINGS
@given(case_shaped)
def test_case_shaped_input_gives_a_case_or_one_clean_error(data):
    import yaml

    try:
        case = parse_case(parse_yaml(yaml.safe_dump(data), "fuzz.yaml"), PACK)
    except InputError as exc:
        assert "\n" not in str(exc)
    else:
        ENGINE.rank(case.snapshot())  # whatever loads must also evaluate


# --- ranking properties -------------------------------------------------------------------------------------


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.data())
def test_adding_a_supporting_finding_never_lowers_its_diagnosis(seed, data):
    snap = random_snapshot(random.Random(seed))
    rule = data.draw(st.sampled_from(EVIDENCE_ONLY))
    name = rule.when.finding
    before_snap = snap.with_changes(unset=(name,))
    before = {d.id: d.probability for d in ENGINE.rank(before_snap).differential}
    after = {
        d.id: d.probability
        for d in ENGINE.rank(before_snap.with_changes(findings={name: "present"})).differential
    }
    p = {d.id: _p(rule, d.id) for d in PACK.diagnoses}
    for dx, p_dx in p.items():
        if all(p_dx >= other for other in p.values()):  # the finding supports dx over every rival
            assert after[dx] >= before[dx] - 1e-12, (name, dx)
        if all(p_dx <= other for other in p.values()):
            assert after[dx] <= before[dx] + 1e-12, (name, dx)


def _case_yaml(snap, extra_stage=None) -> str:
    import yaml

    stages = [
        {"name": "all", "findings": dict(snap.findings), "labs": dict(snap.labs), "tests": dict(snap.tests)}
    ]
    if extra_stage:
        stages.append({"name": "more", **extra_stage})
    data = {"id": "p-1", "title": "t", "patient": {"age": snap.age, "sex": snap.sex}, "stages": stages}
    return yaml.safe_dump(data)


@SETTINGS
@given(
    st.integers(0, 2**32 - 1), st.sets(st.sampled_from([f.id for f in PACK.vocabulary.findings]), max_size=8)
)
def test_unknown_findings_never_change_the_ranking(seed, names):
    snap = random_snapshot(random.Random(seed))
    names = {n for n in names if n not in snap.findings}
    plain = parse_case(parse_yaml(_case_yaml(snap), "a.yaml"), PACK)
    marked = parse_case(
        parse_yaml(_case_yaml(snap, {"findings": dict.fromkeys(names, "unknown")}), "b.yaml"), PACK
    )
    assert ENGINE.rank(marked.snapshot()) == ENGINE.rank(plain.snapshot())


def test_unknown_in_a_case_file_changes_nothing():
    base = {
        "id": "u-1",
        "title": "t",
        "patient": {"age": 40, "sex": "male"},
        "stages": [{"name": "s", "labs": {"hemoglobin": 9.0, "platelets": 40, "anc": 0.9}}],
    }
    import copy

    import yaml

    with_unknowns = copy.deepcopy(base)
    with_unknowns["stages"][0]["findings"] = {f.id: "unknown" for f in PACK.vocabulary.findings}
    a = ENGINE.rank(parse_case(parse_yaml(yaml.safe_dump(base), "a.yaml"), PACK).snapshot())
    b = ENGINE.rank(parse_case(parse_yaml(yaml.safe_dump(with_unknowns), "b.yaml"), PACK).snapshot())
    assert a == b


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_evaluation_order_never_changes_results(seed):
    rng = random.Random(seed)
    snaps = [random_snapshot(rng) for _ in range(12)]
    first = [ENGINE.rank(s) for s in snaps]
    order = list(range(len(snaps)))
    rng.shuffle(order)
    shuffled = {i: ENGINE.rank(snaps[i]) for i in order}
    assert all(shuffled[i] == first[i] for i in range(len(snaps)))


def _p(rule: EvidenceRule, dx: str) -> float:
    freq = rule.then.evidence.get(dx, rule.then.otherwise)
    return freq if isinstance(freq, float) else freq.p
