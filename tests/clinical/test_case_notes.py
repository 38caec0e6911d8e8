"""The library's prose agrees with what its own numbers derive: a note a learner reads beside the table.

A stage note that says "macrocytic" while the MCV derives "Macrocytosis absent" teaches the learner to
distrust either the note or the engine. TEACHING AID ONLY - not for clinical use.
"""

from __future__ import annotations

import re

import pytest

from hemedx import get_engine, load_pack
from hemedx.cases.library import load_library

PACK = load_pack()
ENGINE = get_engine(PACK)
CASES = load_library(PACK)

# words about red-cell size in prose -> the derived finding states they claim
CLAIMS = {
    r"\bmacrocytic\b|\bmacrocytosis of\b": {"macrocytosis": "present"},
    r"\bmicrocytic\b": {"microcytosis": "present"},
    r"\bnormocytic\b": {"macrocytosis": "absent", "microcytosis": "absent"},
}
NEGATED = re.compile(r"\b(no|not|without)\s+(\w+\s+)?$", re.IGNORECASE)


def _claims(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pattern, states in CLAIMS.items():
        for m in re.finditer(pattern, text, re.IGNORECASE):
            if not NEGATED.search(text[max(0, m.start() - 20) : m.start()]):
                out.update(states)
    return out


def test_the_claim_reader_sees_a_negation():
    assert _claims("the red cells are slightly macrocytic") == {"macrocytosis": "present"}
    assert _claims("the red cells are not macrocytic") == {}
    assert _claims("Normocytic red cells") == {"macrocytosis": "absent", "microcytosis": "absent"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_notes_and_teaching_points_agree_with_the_derived_red_cell_size(case):
    final = ENGINE.rank(case.snapshot()).findings
    texts = [("note", s.name, s.note or "") for s in case.stages]
    texts += [("teaching point", str(k + 1), tp.text) for k, tp in enumerate(case.teaching_points)]
    for where, which, text in texts:
        for finding, state in _claims(" ".join(text.split())).items():
            got = final.get(finding, ("unknown",))[0]
            assert got == state, f"{case.id} {where} {which!r} says {finding} {state}; numbers derive {got}"
