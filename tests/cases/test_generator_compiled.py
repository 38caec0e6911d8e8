"""The generator's compiled distributions draw exactly what the interpreted ones (_draw, _Eval) draw."""

from __future__ import annotations

import ast
import random

import pytest

from hemedx import load_pack
from hemedx.cases.generator import Dist, _compile_dist, _compile_expr, _draw, _Eval, load_distributions

PACK = load_pack()
DIST = load_distributions(PACK)


def _every_dist():
    spec = DIST.spec
    for profile in [spec.baseline, *spec.diagnoses.values()]:
        for variant in [profile, *getattr(profile, "variants", [])]:
            if variant.age is not None:
                yield variant.age
            yield from variant.labs.values()


def _envs(rng: random.Random):
    labs = list(PACK.kb.labs)
    for female, child in ((1.0, 0.0), (0.0, 0.0), (1.0, 1.0), (0.0, 1.0)):
        env = {"female": female, "child": child, "age": 8.0 if child else 44.0}
        env.update({lab: rng.uniform(0.5, 300) for lab in labs})
        env.update({f"z{i}": rng.uniform(0, 1) for i in range(10)})
        yield env


def test_every_distribution_of_the_file_draws_the_same_values_and_leaves_the_rng_the_same():
    checked = 0
    for dist in _every_dist():
        compiled = _compile_dist(dist)
        for env in _envs(random.Random(1)):
            env = {**env, **{name: 0.5 for name in _latents()}}
            a, b = random.Random(7), random.Random(7)
            assert compiled(a, env) == _draw(dist, b, env)
            assert a.getstate() == b.getstate()
            checked += 1
    assert checked > 100


def _latents():
    names = set()
    for dx in DIST.spec.diagnoses.values():
        names |= set(dx.latent)
        for v in dx.variants:
            names |= set(v.latent)
    return names


@pytest.mark.parametrize(
    "expr",
    [
        "1 + 2 * 3",
        "2",
        "-x / 0",
        "x / (y - y)",
        "u(1, 2) * n(x, 1) - logn(3, 1.5)",
        "clip(n(x, y), 1, 2) + max(x, y, 3) + min(1, 2)",
        "lerp(u(0, 1), x, y) + loglerp(0.5, 1, 100) + choice(0.3, x, y)",
        "+x - -y",
    ],
)
def test_compiled_expressions_compute_what_the_interpreter_computes(expr):
    tree = ast.parse(expr, mode="eval")
    env = {"x": 3.5, "y": 1.25}
    a, b = random.Random(3), random.Random(3)
    got, want = _compile_expr(tree)(a, env), _Eval(b, env)(tree)
    assert got == want and type(got) is type(want)
    assert a.getstate() == b.getstate()


def test_a_lognormal_that_cannot_be_drawn_fails_as_it_always_did():
    dist = Dist.model_construct(lognormal=(1.0, 0.0))  # the schema does not forbid a zero spread
    with pytest.raises(ValueError):
        _compile_dist(dist)(random.Random(1), {})
