"""Synthetic case generator: schema-valid teaching cases with physiologically coupled labs.

The distributions live in the pack folder (``distributions.yaml`` beside ``diagnoses.yaml``), as data with
their sources, so a teacher can read (and change) what a generated aplastic anaemia looks like without
reading code; an overlay pack's ``distributions.yaml`` replaces the default's entries per diagnosis id.
Each case gets its own ``random.Random`` seeded from (seed, diagnosis, index), so a case never depends on
how many others were generated alongside it and the same seed always gives byte-identical files.

The generator shares the pack's assumptions (its ranges are chosen to satisfy the pack's criteria): it checks
the rules for consistency and robustness to noise; it is not a benchmark of clinical truth.
"""

from __future__ import annotations

import ast
import bisect
import functools
import hashlib
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hemedx.cases.loader import parse_case, quick_case
from hemedx.cases.model import Case
from hemedx.errors import EngineError, InputError
from hemedx.rules import default_pack_path
from hemedx.rules.model import Pack
from hemedx.rules.yaml_cache import load_pack_file
from hemedx.safeyaml import Document
from hemedx.schema_errors import to_input_error
from hemedx.suggest import did_you_mean

NORMAL = "normal"
ALL = "all"
Basis = Literal["published", "teaching_estimate"]

# ----------------------------------------------------------------------------------------------- schema


class _Strict(BaseModel):
    # Built on first use: only the file models are validated directly (rules check and generate build
    # DistributionsFile, which holds the rest), so the others' own validators would never be used.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Dist(_Strict):
    """One value's distribution (exactly one kind), clipped to [min, max]."""

    normal: tuple[float, float] | None = None
    lognormal: tuple[float, float] | None = None
    uniform: tuple[float, float] | None = None
    const: float | None = None
    expr: str | None = None
    by_sex: dict[Literal["female", "male", "child"], Dist] | None = None
    min: float | None = None
    max: float | None = None
    cites: list[str] = []
    basis: Basis | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Dist:
        kinds = [
            k
            for k in ("normal", "lognormal", "uniform", "const", "expr", "by_sex")
            if getattr(self, k) is not None
        ]
        if len(kinds) != 1:
            raise ValueError(
                "give exactly one of normal, lognormal, uniform, const, expr, by_sex"
                + (f" (got {', '.join(kinds)})" if kinds else "")
            )
        if self.by_sex is not None and not {"female", "male"} <= set(self.by_sex):
            raise ValueError("by_sex needs at least female and male")
        return self


class LabSpec(Dist):
    """A lab's distribution plus the probability that it is reported at all."""

    done: Annotated[float, Field(ge=0, le=1)] | None = None


class TestSpec(_Strict):
    """A categorical test: result probabilities and the probability that it is done."""

    values: dict[str, Annotated[float, Field(ge=0)]]
    done: Annotated[float, Field(ge=0, le=1)] | None = None
    cites: list[str] = []
    basis: Basis | None = None


class Tier(_Strict):
    """A lab condition that sets a finding's probability (pallor with a low haemoglobin...)."""

    lab: str
    below: float | None = None
    above: float | None = None
    p: Annotated[float, Field(ge=0, le=1)]


class FindingSpec(_Strict):
    """Probability that a finding is present (``tiers`` first), and that it is written down at all."""

    p: Annotated[float, Field(ge=0, le=1)] = 0.0
    tiers: list[Tier] = []
    recorded: Annotated[float, Field(ge=0, le=1)] | None = None
    cites: list[str] = []
    basis: Basis | None = None


FindingEntry = float | FindingSpec


class Profile(_Strict):
    """Overrides of the baseline for a diagnosis or one of its variants."""

    basis: Basis | None = None
    cites: list[str] = []
    note: str | None = None
    age: Dist | None = None
    female: Annotated[float, Field(ge=0, le=1)] | None = None
    marrow: Annotated[float, Field(ge=0, le=1)] | None = None
    latent: dict[str, tuple[float, float]] = {}
    labs: dict[str, LabSpec] = {}
    tests: dict[str, TestSpec] = {}
    findings: dict[str, FindingEntry] = {}
    marrow_findings: dict[str, FindingEntry] = {}
    tags: list[str] = []


class Variant(Profile):
    """A weighted variant of a diagnosis; ``subtype`` is the pack subtype of its answer key (or null)."""

    subtype: str | None
    weight: Annotated[float, Field(gt=0)]


class DiagnosisProfile(Profile):
    """A diagnosis of the pack (or ``normal``): its short slug for ids, overrides and variants."""

    slug: Annotated[str, Field(pattern=r"^[a-z0-9]+$")]
    variants: list[Variant] = []


class Noise(_Strict):
    """Missing tests, misleading findings and alternative units, applied to every generated case."""

    basis: Basis = "teaching_estimate"
    missing_lab: Annotated[float, Field(ge=0, le=1)]
    missing_finding: Annotated[float, Field(ge=0, le=1)]
    decoy: Annotated[float, Field(ge=0, le=1)]
    alternative_unit: Annotated[float, Field(ge=0, le=1)]
    decoys: list[str]
    alternative_units: dict[str, str] = {}


class Stages(_Strict):
    """Stage names, in the order they are revealed."""

    history: str
    count: str
    chemistry: str
    marrow: str


class DistributionsFile(_Strict):
    """The whole ``distributions.yaml``."""

    version: Literal[1]
    stages: Stages
    noise: Noise
    baseline: Profile
    diagnoses: dict[str, DiagnosisProfile]


class DistributionsOverlay(_Strict):
    """An overlay pack's ``distributions.yaml``: sections given replace the default's, diagnoses per id."""

    version: Literal[1]
    stages: Stages | None = None
    noise: Noise | None = None
    baseline: Profile | None = None
    diagnoses: dict[str, DiagnosisProfile] = {}


# ------------------------------------------------------------------------------------------------ loading


DISTRIBUTIONS_FILE = "distributions.yaml"


def distributions_path() -> Path:
    """The generator's distributions file of the default pack (shipped with hemedx)."""
    return default_pack_path() / DISTRIBUTIONS_FILE


@dataclass(frozen=True)
class Distributions:
    """A validated distributions file, checked against a pack's vocabulary, diagnoses and sources."""

    spec: DistributionsFile
    file: str
    # What every case of one diagnosis/variant shares (its compiled profile), made once: keyed by the
    # variant object, which lives as long as ``spec``; also each plan's variant chooser and stage names.
    _profiles: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled without ``_profiles``: a cache of closures, rebuilt by whoever unpickles."""
        return (Distributions, (self.spec, self.file))

    def diagnosis_ids(self) -> list[str]:
        """Diagnoses the generator knows, in file order (``normal`` included)."""
        return list(self.spec.diagnoses)

    def subtypes(self, diagnosis: str) -> list[str]:
        """Subtypes with at least one variant, in file order."""
        seen: list[str] = []
        for v in self.spec.diagnoses[diagnosis].variants:
            if v.subtype is not None and v.subtype not in seen:
                seen.append(v.subtype)
        return seen


def load_distributions(
    pack: Pack, path: Path | str | None = None, folder: Path | str | None = None
) -> Distributions:
    """Read and check the generator's distributions against ``pack``.

    ``path`` (``--distributions FILE``) is a whole file used as it is. Otherwise the pack folder's
    ``distributions.yaml`` is used (``folder``: the ``--rules`` folder; the default pack's when None or
    when the folder has none); an overlay pack's file is merged onto the default pack's. Every id must
    exist in ``pack``: an unknown one is an error, never dropped.
    """
    own = Path(folder) / DISTRIBUTIONS_FILE if folder is not None else None
    if path is None and own is not None and own.is_file() and pack.info.extends is None:
        path = own  # a whole pack of its own: its file replaces the default's
    doc, _ = load_pack_file(Path(path) if path is not None else distributions_path(), "distributions")
    spec = _validate(doc, DistributionsFile)
    if path is not None or own is None or not own.is_file():
        _check_references(spec, doc, pack)
        return Distributions(spec, doc.file)
    top_doc, _ = load_pack_file(own, "distributions")
    top = _validate(top_doc, DistributionsOverlay)
    replaced = {key: getattr(top, key) for key in ("stages", "noise", "baseline") if getattr(top, key)}
    merged = spec.model_copy(update={**replaced, "diagnoses": {**spec.diagnoses, **top.diagnoses}})
    _check_references(merged, _Located(doc, top_doc, set(replaced), set(top.diagnoses)), pack)
    return Distributions(merged, top_doc.file)


def _validate(doc: Document, model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        err = to_input_error(exc, doc, model)
        raise InputError(
            err.message,
            file=err.file,
            line=err.line,
            column=err.column,
            field=err.field,
            hint=err.hint,
            code=SCHEMA,
        ) from None


# ``rules check`` codes of the problems found here (hemedx.authoring.issues.LINTS): the same as for the
# other pack files, so a distributions problem reads like any other.
SCHEMA, UNKNOWN_ID, UNKNOWN_SOURCE, NO_CITES = "HX001", "HX101", "HX102", "HX103"


@dataclass(frozen=True)
class _Located:
    """Errors of a merged file point into the overlay's file for what it gave, else into the default's."""

    base: Document
    top: Document
    sections: set[str]
    diagnoses: set[str]

    def error(
        self, path: tuple[Any, ...], message: str, hint: str | None = None, code: str | None = None
    ) -> InputError:
        """Located in the file the entry at ``path`` came from."""
        section = path[0] if path else None
        given = section == "diagnoses" and len(path) > 1 and path[1] in self.diagnoses
        doc = self.top if section in self.sections or given else self.base
        return doc.error(path, message, hint, code)


def _check_references(spec: DistributionsFile, doc: Document | _Located, pack: Pack) -> None:
    vocab = pack.vocabulary
    findings = {f.id for f in vocab.findings if f.category != "derived"}
    labs, tests = pack.kb.labs, pack.kb.tests
    sources = {s.id for s in pack.sources}
    dxs = {d.id: d for d in pack.diagnoses if not d.is_outside}

    def check_cites(cites: list[str], where: tuple[Any, ...]) -> None:
        for i, source in enumerate(cites):
            if source not in sources:
                raise doc.error(
                    (*where, "cites", i),
                    f"unknown source '{source}'",
                    did_you_mean(source, sources),
                    UNKNOWN_SOURCE,
                )

    def check_basis(entry: Any, where: tuple[Any, ...], profile_basis: str | None) -> None:
        check_cites(entry.cites, where)
        if not entry.cites and (entry.basis or profile_basis) != "teaching_estimate":
            raise doc.error(
                where, "no cites: say 'basis: teaching_estimate' here or on the profile", code=NO_CITES
            )

    def check_dist(dist: Dist, where: tuple[Any, ...], names: set[str]) -> None:
        if dist.expr is not None:
            problem = _check_expr(dist.expr, names)
            if problem:
                raise doc.error((*where, "expr"), problem, code=SCHEMA)
        for key, sub in (dist.by_sex or {}).items():
            check_dist(sub, (*where, "by_sex", key), names)

    def check_profile(p: Profile, where: tuple[Any, ...], latents: set[str]) -> None:
        names = set(labs) | latents | {"age", "female", "child"}
        basis = p.basis or spec.baseline.basis
        check_cites(p.cites, where)
        if p.age is not None:
            check_dist(p.age, (*where, "age"), {"female", "child"} | latents)
            check_basis(p.age, (*where, "age"), basis)
        for key, lab in p.labs.items():
            if key not in labs:
                raise doc.error(
                    (*where, "labs", key), f"unknown lab '{key}'", did_you_mean(key, labs), UNKNOWN_ID
                )
            check_dist(lab, (*where, "labs", key), names)
            check_basis(lab, (*where, "labs", key), basis)
        for key, test in p.tests.items():
            if key not in tests:
                raise doc.error(
                    (*where, "tests", key), f"unknown test '{key}'", did_you_mean(key, tests), UNKNOWN_ID
                )
            for value in test.values:
                if value not in tests[key].values:
                    raise doc.error(
                        (*where, "tests", key, "values", value),
                        f"'{value}' is not a result of {key} (allowed: {', '.join(tests[key].values)})",
                        code=UNKNOWN_ID,
                    )
            if not sum(test.values.values()) > 0:
                raise doc.error(
                    (*where, "tests", key, "values"), "result probabilities sum to zero", code=SCHEMA
                )
            check_basis(test, (*where, "tests", key), basis)
        for section in ("findings", "marrow_findings"):
            for key, entry in getattr(p, section).items():
                if key not in findings:
                    raise doc.error(
                        (*where, section, key),
                        f"unknown (or derived) finding '{key}'",
                        did_you_mean(key, findings),
                        UNKNOWN_ID,
                    )
                if isinstance(entry, FindingSpec):
                    check_cites(entry.cites, (*where, section, key))
                    for t_index, tier in enumerate(entry.tiers):
                        if tier.lab not in labs or (tier.below is None) == (tier.above is None):
                            raise doc.error(
                                (*where, section, key, "tiers", t_index),
                                "a tier needs a known lab and exactly one of below/above",
                                code=SCHEMA,
                            )

    check_profile(spec.baseline, ("baseline",), set())
    for key in [*spec.noise.decoys]:
        if key not in findings:
            raise doc.error(
                ("noise", "decoys"), f"unknown finding '{key}'", did_you_mean(key, findings), UNKNOWN_ID
            )
    for key, unit in spec.noise.alternative_units.items():
        lab = labs.get(key)
        if lab is None or unit not in [a.unit for a in lab.alternative_units]:
            raise doc.error(
                ("noise", "alternative_units", key),
                f"'{unit}' is not an alternative unit of {key}",
                code=UNKNOWN_ID,
            )
    for dx_id, dx in spec.diagnoses.items():
        where = ("diagnoses", dx_id)
        if dx_id != NORMAL and dx_id not in dxs:
            raise doc.error(where, f"unknown diagnosis '{dx_id}'", did_you_mean(dx_id, dxs), UNKNOWN_ID)
        latents = set(dx.latent)
        check_profile(dx, where, latents)
        subtypes = {s.id for s in dxs[dx_id].subtypes} if dx_id in dxs else set()
        for v_index, variant in enumerate(dx.variants):
            v_where = (*where, "variants", v_index)
            if variant.subtype is not None and variant.subtype not in subtypes:
                raise doc.error(
                    (*v_where, "subtype"),
                    f"'{variant.subtype}' is not a subtype of {dx_id}",
                    did_you_mean(variant.subtype, subtypes),
                    UNKNOWN_ID,
                )
            check_profile(variant, v_where, latents | set(variant.latent))


_FUNCTIONS = {"u", "n", "logn", "lerp", "loglerp", "choice", "min", "max", "clip"}


def _check_expr(text: str, names: set[str]) -> str | None:
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        return f"not an expression: {exc.msg}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS or node.keywords:
                return f"unknown function (allowed: {', '.join(sorted(_FUNCTIONS))})"
        elif isinstance(node, ast.Name):
            if node.id not in names and node.id not in _FUNCTIONS:
                return f"unknown name '{node.id}'" + (
                    f" (did you mean '{h}'?)" if (h := _near(node.id, names)) else ""
                )
        elif not isinstance(
            node,
            (
                ast.Expression,
                ast.BinOp,
                ast.UnaryOp,
                ast.Constant,
                ast.Load,
                ast.Add,
                ast.Sub,
                ast.Mult,
                ast.Div,
                ast.USub,
                ast.UAdd,
            ),
        ):
            return f"'{type(node).__name__}' is not allowed in an expression"
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            return "only numbers are allowed as constants"
    return None


def _near(word: str, names: set[str]) -> str | None:
    hint = did_you_mean(word, names)
    return hint.removeprefix("did you mean '").removesuffix("'?") if hint else None


def expr_names(text: str) -> set[str]:
    """Names an expression reads (its dependencies); a fresh set the caller may change."""
    return set(_names(text))


@functools.lru_cache(maxsize=4096)
def _names(text: str) -> frozenset[str]:
    """Names an expression reads, worked out once per process (every generated case asks again)."""
    return frozenset({n.id for n in ast.walk(_parsed(text)) if isinstance(n, ast.Name)} - _FUNCTIONS)


# ------------------------------------------------------------------------------------------------ drawing


class _Eval:
    """Evaluate a checked expression with the case's RNG; evaluation order (and so draw order) is fixed."""

    def __init__(self, rng: random.Random, env: dict[str, float]) -> None:
        self.rng = rng
        self.env = env

    def __call__(self, node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return self(node.body)
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return self.env[node.id]
        if isinstance(node, ast.UnaryOp):
            value = self(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            left, right = self(node.left), self(node.right)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            return left / right if right else 0.0
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        args = [self(a) for a in node.args]
        return _CALLS[node.func.id](self.rng, *args)


def _lerp(_: random.Random, t: float, a: float, b: float) -> float:
    return a + (b - a) * t


def _loglerp(_: random.Random, t: float, a: float, b: float) -> float:
    return math.exp(math.log(a) + (math.log(b) - math.log(a)) * t)


_CALLS: dict[str, Callable[..., float]] = {
    "u": lambda rng, a, b: rng.uniform(a, b),
    "n": lambda rng, mu, sd: rng.gauss(mu, sd),
    "logn": lambda rng, median, gsd: median * math.exp(rng.gauss(0, math.log(gsd))),
    "lerp": _lerp,
    "loglerp": _loglerp,
    "choice": lambda rng, p, a, b: a if rng.random() < p else b,
    "min": lambda _, *xs: min(xs),
    "max": lambda _, *xs: max(xs),
    "clip": lambda _, x, lo, hi: min(max(x, lo), hi),
}


def _draw(dist: Dist, rng: random.Random, env: dict[str, float]) -> float:
    if dist.by_sex is not None:
        key = "child" if env["child"] and "child" in dist.by_sex else ("female" if env["female"] else "male")
        value = _draw(dist.by_sex[key], rng, env)
    elif dist.normal is not None:
        value = rng.gauss(*dist.normal)
    elif dist.lognormal is not None:
        median, gsd = dist.lognormal
        value = median * math.exp(rng.gauss(0, math.log(gsd)))
    elif dist.uniform is not None:
        value = rng.uniform(*dist.uniform)
    elif dist.const is not None:
        value = dist.const
    else:
        assert dist.expr is not None
        value = _Eval(rng, env)(_parsed(dist.expr))
    if dist.min is not None:
        value = max(value, dist.min)
    if dist.max is not None:
        value = min(value, dist.max)
    return value


@functools.lru_cache(maxsize=4096)
def _parsed(expr: str) -> ast.Expression:
    """A distribution expression parsed once per process, not once per drawn value (the tree is only read)."""
    return ast.parse(expr, mode="eval")


def _bounds(dist: Dist, env: dict[str, float]) -> tuple[float | None, float | None]:
    if dist.by_sex is not None:
        key = "child" if env["child"] and "child" in dist.by_sex else ("female" if env["female"] else "male")
        inner = dist.by_sex[key]
        return (inner.min if dist.min is None else dist.min, inner.max if dist.max is None else dist.max)
    return dist.min, dist.max


def _round(value: float, decimals: int, low: float | None, high: float | None) -> float | int:
    """Round to the lab's decimals without leaving [low, high] (a bound is part of the coupling)."""
    step = 10.0**-decimals
    out = round(value, decimals)
    if high is not None and out > high:
        out = round(math.floor(high / step + 1e-9) * step, decimals)
    if low is not None and out < low:
        out = round(math.ceil(low / step - 1e-9) * step, decimals)
    return int(out) if decimals == 0 else out


@dataclass(frozen=True)
class _Merged:
    age: Dist
    female: float
    marrow: float
    latent: dict[str, tuple[float, float]]
    labs: dict[str, LabSpec]
    tests: dict[str, TestSpec]
    findings: dict[str, FindingSpec]
    marrow_findings: dict[str, FindingSpec]
    tags: list[str]


def _as_finding(entry: FindingEntry) -> FindingSpec:
    return entry if isinstance(entry, FindingSpec) else FindingSpec(p=float(entry))


def _merge(*profiles: Profile) -> _Merged:
    """Baseline, diagnosis, variant: a later profile's value or entry replaces an earlier one."""

    def last(name: str, default: Any) -> Any:
        return next((v for p in reversed(profiles) if (v := getattr(p, name)) is not None), default)

    def union(name: str, entry: Callable[[Any], Any] = lambda v: v) -> dict[str, Any]:
        return {k: entry(v) for p in profiles for k, v in getattr(p, name).items()}

    tags: list[str] = []
    for p in profiles:
        tags += [t for t in p.tags if t not in tags]
    age = last("age", None)
    assert age is not None, "the baseline gives an age distribution"
    return _Merged(
        age=age,
        female=last("female", 0.5),
        marrow=last("marrow", 0.0),
        latent=union("latent"),
        labs=union("labs"),
        tests=union("tests"),
        findings=union("findings", _as_finding),
        marrow_findings=union("marrow_findings", _as_finding),
        tags=tags,
    )


def _draw_findings(
    rng: random.Random,
    order: list[str],
    entries: dict[str, FindingSpec],
    chance: Callable[[FindingSpec], float],
    recorded: float,
) -> dict[str, str]:
    """Each finding of ``entries``, in vocabulary order: present with ``chance``, then written down or not."""
    out: dict[str, str] = {}
    for fid in order:
        entry = entries.get(fid)
        if entry is None:
            continue
        present = rng.random() < chance(entry)
        if rng.random() < (entry.recorded if entry.recorded is not None else recorded):
            out[fid] = "present" if present else "absent"
    return out


def _lab_order(labs: dict[str, LabSpec], vocab_order: list[str]) -> list[str]:
    """Labs in dependency order (an expression's inputs first), ties in vocabulary order."""

    def deps(spec: Dist) -> set[str]:
        out = expr_names(spec.expr) if spec.expr else set()
        for sub in (spec.by_sex or {}).values():
            out |= deps(sub)
        return out & set(labs)

    pending = [lab for lab in vocab_order if lab in labs]
    needs = {lab: deps(labs[lab]) for lab in pending}  # each expression's names looked up once per case
    done: list[str] = []
    finished: set[str] = set()
    while pending:
        ready = next((lab for lab in pending if needs[lab] <= finished), None)
        if ready is None:
            raise InputError(f"generator distributions: circular expressions among {', '.join(pending)}")
        done.append(ready)
        finished.add(ready)
        pending.remove(ready)
    return done


def case_seed(seed: int, diagnosis: str, subtype: str | None, index: int) -> int:
    """The per-case RNG seed: a stable hash of (seed, diagnosis, subtype, index), never Python's hash()."""
    key = f"hemedx-generator:1:{seed}:{diagnosis}:{subtype or '-'}:{index}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big")


@dataclass(frozen=True)
class Plan:
    """What to generate for one case."""

    diagnosis: str
    subtype: str | None
    index: int


def plan(dist: Distributions, diagnosis: str, subtype: str | None, n: int) -> list[Plan]:
    """The cases of one run: ``all`` cycles through every diagnosis (``normal`` too), in file order."""
    if n < 0:
        raise InputError(f"--n must be at least 0 (got {n})")
    known = dist.diagnosis_ids()
    if diagnosis == ALL:
        if subtype is not None:
            raise InputError("--subtype needs a single --diagnosis, not 'all'")
        return [Plan(known[i % len(known)], None, i) for i in range(n)]
    if diagnosis not in known:
        raise InputError(
            f"unknown diagnosis '{diagnosis}' (the generator knows: {', '.join([*known, ALL])})",
            hint=did_you_mean(diagnosis, [*known, ALL]),
        )
    if subtype is not None and subtype not in dist.subtypes(diagnosis):
        allowed = ", ".join(dist.subtypes(diagnosis)) or "none"
        raise InputError(
            f"'{subtype}' is not a subtype the generator makes for {diagnosis} (allowed: {allowed})",
            hint=did_you_mean(subtype, dist.subtypes(diagnosis)),
        )
    return [Plan(diagnosis, subtype, i) for i in range(n)]


Draw = Callable[[random.Random, dict[str, float]], float]


def _compile_dist(dist: Dist) -> Draw:
    """:func:`_draw` for one distribution with its kind decided once: the same RNG calls, the same value.

    Every generated case draws every lab; deciding the kind (and walking an expression's tree) per draw
    was most of the generator's time. Anything unusual is left to :func:`_draw` itself.
    """
    base: Draw
    if dist.by_sex is not None:
        subs = {key: _compile_dist(sub) for key, sub in dist.by_sex.items()}
        has_child = "child" in dist.by_sex

        def base(rng: random.Random, env: dict[str, float]) -> float:
            key = "child" if env["child"] and has_child else ("female" if env["female"] else "male")
            return subs[key](rng, env)

    elif dist.normal is not None:
        mu, sd = dist.normal
        base = lambda rng, env: rng.gauss(mu, sd)  # noqa: E731
    elif dist.lognormal is not None:
        median, gsd = dist.lognormal
        if not gsd > 0:  # math.log fails: let _draw fail as it always did, when this value is drawn
            return lambda rng, env: _draw(dist, rng, env)
        log_gsd = math.log(gsd)
        base = lambda rng, env: median * math.exp(rng.gauss(0, log_gsd))  # noqa: E731
    elif dist.uniform is not None:
        a, b = dist.uniform
        base = lambda rng, env: rng.uniform(a, b)  # noqa: E731
    elif dist.const is not None:
        const = dist.const
        base = lambda rng, env: const  # noqa: E731
    elif dist.expr is not None:
        try:
            base = _compile_expr(_parsed(dist.expr))
        except (SyntaxError, ValueError, RecursionError):
            return lambda rng, env: _draw(dist, rng, env)
    else:
        return lambda rng, env: _draw(dist, rng, env)
    low, high = dist.min, dist.max
    if low is None and high is None:
        return base

    def clipped(rng: random.Random, env: dict[str, float]) -> float:
        value = base(rng, env)
        if low is not None:
            value = max(value, low)
        if high is not None:
            value = min(value, high)
        return value

    return clipped


def _compile_expr(node: ast.AST) -> Draw:
    """A checked expression as nested closures that compute exactly what :class:`_Eval` computes."""
    if isinstance(node, ast.Expression):
        return _compile_expr(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        value = float(node.value)
        return lambda rng, env: value
    if isinstance(node, ast.Name):
        name = node.id
        return lambda rng, env: env[name]
    if isinstance(node, ast.UnaryOp):
        operand = _compile_expr(node.operand)
        if isinstance(node.op, ast.USub):
            return lambda rng, env: -operand(rng, env)
        return operand
    if isinstance(node, ast.BinOp):
        left, right = _compile_expr(node.left), _compile_expr(node.right)
        if isinstance(node.op, ast.Add):
            return lambda rng, env: left(rng, env) + right(rng, env)
        if isinstance(node.op, ast.Sub):
            return lambda rng, env: left(rng, env) - right(rng, env)
        if isinstance(node.op, ast.Mult):
            return lambda rng, env: left(rng, env) * right(rng, env)

        def divide(rng: random.Random, env: dict[str, float]) -> float:
            a, b = left(rng, env), right(rng, env)
            return a / b if b else 0.0

        return divide
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _CALLS:
        call = _CALLS[node.func.id]
        args = tuple(_compile_expr(a) for a in node.args)
        if len(args) == 2:
            a0, a1 = args
            return lambda rng, env: call(rng, a0(rng, env), a1(rng, env))
        if len(args) == 3:
            a0, a1, a2 = args
            return lambda rng, env: call(rng, a0(rng, env), a1(rng, env), a2(rng, env))
        return lambda rng, env: call(rng, *[a(rng, env) for a in args])
    return lambda rng, env: _Eval(rng, env)(node)  # anything else: exactly as the interpreter does it


def _choice(population: list[Any], weights: list[float]) -> Callable[[random.Random], Any]:
    """``rng.choices(population, weights)[0]`` with the cumulative weights summed once, not per case."""
    cum = list(itertools.accumulate(weights))
    total = cum[-1] + 0.0 if cum else 0.0
    if len(cum) != len(population) or not (total > 0.0 and math.isfinite(total)):
        return lambda rng: rng.choices(population, weights=weights)[0]  # raises as it always did
    hi = len(population) - 1
    return lambda rng: population[bisect.bisect(cum, rng.random() * total, 0, hi)]


@dataclass(frozen=True)
class _Compiled:
    """One diagnosis/variant's merged profile, ready to draw from: what every case of it would redo."""

    merged: _Merged
    age: Draw
    # (lab, draw, static (low, high) or None when they depend on sex, plausible min and max, decimals)
    labs: tuple[tuple[str, Draw, tuple[float, float] | None, float, float, int], ...]
    # (finding, tiers as (lab, below, above or 0, p), p, probability that it is written down)
    findings: tuple[tuple[str, tuple[tuple[str, float | None, float, float], ...], float, float], ...]
    marrow_findings: tuple[tuple[str, float, float], ...]
    tests: tuple[tuple[str, Callable[[random.Random], str], float], ...]  # (test, draw result, done)
    reported: tuple[tuple[str, float], ...]  # (lab, probability that it is reported), vocabulary order


def _compile(merged: _Merged, spec: DistributionsFile, pack: Pack) -> _Compiled:
    vocab = pack.vocabulary
    lab_order = _lab_order(merged.labs, [lab.id for lab in vocab.labs])
    labs = []
    for lab_id in lab_order:
        lab_spec, lab = merged.labs[lab_id], pack.kb.labs[lab_id]
        static = None
        if lab_spec.by_sex is None:  # the bounds of _bounds, worked out as generate_case always did
            low, high = lab_spec.min, lab_spec.max
            low = max(low if low is not None else lab.plausible.min, lab.plausible.min)
            high = min(high if high is not None else lab.plausible.max, lab.plausible.max)
            static = (low, high)
        labs.append(
            (lab_id, _compile_dist(lab_spec), static, lab.plausible.min, lab.plausible.max, lab.decimals)
        )
    recorded = 1 - spec.noise.missing_finding
    findings = tuple(
        (
            f.id,
            tuple((t.lab, t.below, t.above or 0.0, t.p) for t in e.tiers),
            e.p,
            e.recorded if e.recorded is not None else recorded,
        )
        for f in vocab.findings
        if (e := merged.findings.get(f.id)) is not None
    )
    marrow = tuple(
        (f.id, e.p, e.recorded if e.recorded is not None else 1.0)
        for f in vocab.findings
        if (e := merged.marrow_findings.get(f.id)) is not None
    )
    tests = tuple(
        (
            t.id,
            _choice(list(s.values), list(s.values.values())),
            s.done if s.done is not None else 1 - spec.noise.missing_lab,
        )
        for t in vocab.tests
        if (s := merged.tests.get(t.id)) is not None
    )
    drawn = set(lab_order)
    reported = tuple(
        (lab.id, _done(merged.labs[lab.id], spec.noise.missing_lab)) for lab in vocab.labs if lab.id in drawn
    )
    return _Compiled(merged, _compile_dist(merged.age), tuple(labs), findings, marrow, tests, reported)


_STAGE_OF = {
    "history": "history",
    "examination": "history",
    "blood_count": "count",
    "smear": "count",
    "chemistry": "chemistry",
    "immunology": "chemistry",
    "marrow": "marrow",
}
_STAGE_KEYS = ("history", "count", "chemistry", "marrow")


@dataclass(frozen=True)
class _PackParts:
    """What generated cases take from a pack, looked up once per pack rather than once per case."""

    stage_of: dict[str, str]  # finding, lab or test id -> the stage it is revealed in
    categories: dict[str, str]  # every finding, lab and test id -> its category
    short_labels: dict[str, str]  # history/examination finding -> how the presentation names it
    teaching: dict[str, tuple[str, tuple[dict[str, str], ...]] | None]  # diagnosis -> its point


def _pack_parts(pack: Pack) -> _PackParts:
    def build() -> _PackParts:
        vocab = pack.vocabulary
        every = (*vocab.findings, *vocab.labs, *vocab.tests)
        teaching: dict[str, tuple[str, tuple[dict[str, str], ...]] | None] = {}
        for dx in pack.diagnoses:
            point = next((p for p in dx.teaching_points if p.topic == "diagnosis"), None)
            teaching[dx.id] = (
                None
                if point is None
                else (
                    " ".join(point.text.split()),
                    tuple(
                        {"source": c.source, **({"locator": c.locator} if c.locator else {})}
                        for c in point.cites
                    ),
                )
            )
        return _PackParts(
            stage_of={x.id: _STAGE_OF[x.category] for x in every if x.category in _STAGE_OF},
            categories={x.id: x.category for x in every},
            short_labels={
                f.id: f.label.split(" (")[0].lower()
                for f in vocab.findings
                if f.category in ("history", "examination")
            },
            teaching=teaching,
        )

    return pack.kb.derived("generator_pack_parts", build)


def generate_case(dist: Distributions, pack: Pack, item: Plan, seed: int) -> dict[str, Any]:
    """One case document (the on-disk case format, keys in file order), deterministic in its inputs."""
    spec = dist.spec
    dx = spec.diagnoses[item.diagnosis]
    rng = random.Random(case_seed(seed, item.diagnosis, item.subtype, item.index))
    pick = dist._profiles.get(("variants", item.diagnosis, item.subtype))
    if pick is None:
        variants = [v for v in dx.variants if item.subtype is None or v.subtype == item.subtype]
        chooser = _choice(variants, [v.weight for v in variants]) if variants else None
        pick = dist._profiles[("variants", item.diagnosis, item.subtype)] = chooser
    variant = pick(rng) if pick is not None else None
    key = (item.diagnosis, id(variant), *pack.kb.cache_key)
    profile: _Compiled | None = dist._profiles.get(key)
    if profile is None:
        merged = _merge(spec.baseline, dx, *([variant] if variant else []))
        profile = dist._profiles[key] = _compile(merged, spec, pack)
    merged = profile.merged
    parts = _pack_parts(pack)
    subtype = variant.subtype if variant else None
    labs_by_id = pack.kb.labs

    # The patient and the latent state, then every lab (the physiology exists even if a test is not done).
    female = rng.random() < merged.female
    env: dict[str, float] = {"female": float(female), "child": 0.0}
    age = round(profile.age(rng, env))
    age = max(1, min(age, 100))
    env.update(age=float(age), child=float(age < 15))
    for name, (low, high) in merged.latent.items():
        env[name] = rng.uniform(low, high)
    values: dict[str, float | int] = {}
    for lab_id, draw, static, plausible_min, plausible_max, decimals in profile.labs:
        raw = draw(rng, env)
        if static is None:
            low, high = _bounds(merged.labs[lab_id], env)
            low = max(low if low is not None else plausible_min, plausible_min)
            high = min(high if high is not None else plausible_max, plausible_max)
        else:
            low, high = static
        value = values[lab_id] = _round(min(max(raw, low), high), decimals, low, high)
        env[lab_id] = float(value)

    # Each finding in vocabulary order: present with its chance (the first tier that holds), then written
    # down or not; then the marrow's findings, the tests and which labs were reported.
    findings: dict[str, str] = {}
    for f_id, tiers, p, recorded in profile.findings:
        chance = p
        for lab_id, below, above, tier_p in tiers:
            value = env.get(lab_id)
            if value is not None and (value < below if below is not None else value > above):
                chance = tier_p
                break
        present = rng.random() < chance
        if rng.random() < recorded:
            findings[f_id] = "present" if present else "absent"
    marrow_findings: dict[str, str] = {}
    for f_id, p, recorded in profile.marrow_findings:
        present = rng.random() < p
        if rng.random() < recorded:
            marrow_findings[f_id] = "present" if present else "absent"
    tests: dict[str, str] = {}
    for t_id, result_of, done in profile.tests:
        result = result_of(rng)
        if rng.random() < done:
            tests[t_id] = result
    reported = {lab_id: values[lab_id] for lab_id, done in profile.reported if rng.random() < done}
    marrow_done = rng.random() < merged.marrow
    tags = ["generated", item.diagnosis, *([subtype] if subtype else []), *merged.tags]
    if rng.random() < spec.noise.decoy:
        candidates = [d for d in spec.noise.decoys if findings.get(d) != "present"]
        if candidates:
            decoy = rng.choice(candidates)
            findings[decoy] = "present"
            tags.append(f"decoy-{decoy.replace('_', '-')}")
    units: dict[str, str] = {}
    for lab_id, unit in spec.noise.alternative_units.items():
        if lab_id in reported and rng.random() < spec.noise.alternative_unit:
            units[lab_id] = unit
    if not marrow_done:
        tags.append("no-marrow")

    stage_of = parts.stage_of

    def stage(x_id: str) -> str:
        found = stage_of.get(x_id)
        return found if found is not None else _STAGE_OF[parts.categories[x_id]]  # raises as before

    stages: dict[str, dict[str, dict[str, Any]]] = {
        key: {"findings": {}, "labs": {}, "tests": {}} for key in _STAGE_KEYS
    }
    for f_id, state in findings.items():
        stages[stage(f_id)]["findings"][f_id] = state
    for f_id, state in marrow_findings.items():
        stages["marrow"]["findings"][f_id] = state
    for lab_id, value in reported.items():
        stages[stage(lab_id)]["labs"][lab_id] = _with_unit(value, units.get(lab_id), labs_by_id[lab_id])
    for t_id, result in tests.items():
        stages[stage(t_id)]["tests"][t_id] = result
    if not marrow_done:
        stages["marrow"] = {"findings": {}, "labs": {}, "tests": {}}
    names = dist._profiles.get("stage names")
    if names is None:
        names = dist._profiles["stage names"] = spec.stages.model_dump()
    stage_list = []
    for key in _STAGE_KEYS:
        content = {k: v for k, v in stages[key].items() if v}
        if content:
            stage_list.append({"name": names[key], **content})

    sub_slug = f"-{subtype.replace('_', '-')}" if subtype else ""
    case_id = f"gen-{dx.slug}{sub_slug}-s{seed}-{item.index:04d}"
    sex = "female" if female else "male"
    data: dict[str, Any] = {
        "id": case_id,
        "title": f"Generated case {item.index} (seed {seed}): {_person(age, female)}",
        "synthetic": True,
        "patient": {"age": age, "sex": sex},
        "presentation": _presentation(age, female, findings, pack),
        "stages": stage_list,
    }
    if item.diagnosis != NORMAL:
        data["answer"] = {"diagnosis": item.diagnosis, **({"subtype": subtype} if subtype else {})}
        point = _teaching_point(pack, item.diagnosis)
        if point:
            data["teaching_points"] = [point]
    data["tags"] = tags
    data["difficulty"] = (
        "advanced"
        if any(t.startswith("decoy") for t in tags)
        else "intermediate"
        if not marrow_done
        else "introductory"
    )
    return data


def _done(spec: LabSpec, missing: float) -> float:
    return spec.done if spec.done is not None else 1 - missing


def _tier_holds(tier: Tier, env: dict[str, float]) -> bool:
    value = env.get(tier.lab)
    if value is None:
        return False
    return value < tier.below if tier.below is not None else value > (tier.above or 0.0)


def _with_unit(value: float | int, unit: str | None, lab: Any) -> Any:
    if unit is None:
        return value
    factor = next(a.factor for a in lab.alternative_units if a.unit == unit)
    given = value / factor
    decimals = max(0, lab.decimals + round(math.log10(factor)))
    shown = round(given, decimals)
    return {"value": int(shown) if decimals == 0 else shown, "unit": unit}


def _person(age: int, female: bool) -> str:
    noun = ("girl" if female else "boy") if age < 15 else ("woman" if female else "man")
    return f"{age}-year-old {noun}"


def _presentation(age: int, female: bool, findings: dict[str, str], pack: Pack) -> str:
    short = _pack_parts(pack).short_labels
    present = [short[f] for f, state in findings.items() if state == "present" and f in short]
    who = f"A {_person(age, female)}"
    if not present:
        return f"{who} is referred after a routine blood count."
    listed = present[0] if len(present) == 1 else ", ".join(present[:-1]) + " and " + present[-1]
    return f"{who} is seen with: {listed}."


def _teaching_point(pack: Pack, diagnosis: str) -> dict[str, Any] | None:
    point = _pack_parts(pack).teaching[diagnosis]
    if point is None:
        return None
    text, cites = point
    return {"text": text, "cites": [dict(c) for c in cites]}  # a fresh document per case, as before


# ------------------------------------------------------------------------------------------------ output


class _Dumper(yaml.SafeDumper):
    """Block style with indented lists, as the library is written; short scalar mappings on one line."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        """Indent list items under their key (PyYAML's default puts them flush)."""
        super().increase_indent(flow, False)


def _represent_dict(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    flow = (
        len(data) <= 2
        and all(isinstance(v, (int, float, str)) for v in data.values())
        and (
            set(data) in ({"value", "unit"}, {"age", "sex"}, {"diagnosis"}, {"diagnosis", "subtype"})
            or set(data) <= {"source", "locator"}
        )
    )
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


_Dumper.add_representer(dict, _represent_dict)


def to_yaml(data: dict[str, Any]) -> str:
    """Serialise a case document deterministically (the header says it is generated and synthetic)."""
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    return "# Generated by `hemedx generate`: synthetic, TEACHING AID ONLY - not for clinical use.\n" + body


def to_case(data: dict[str, Any], pack: Pack) -> Case:
    """Validate a generated document exactly as a file would be (same schema, same checks)."""
    file = f"<generated {data.get('id')}>"
    case = quick_case(data, file, pack)  # the same Case, without pydantic, when the document is plain
    if case is not None:
        return case
    try:
        return parse_case(Document(data=data, file=file), pack)
    except InputError as exc:  # the generator clips to the vocabulary's ranges: a failure here is a bug
        raise EngineError(f"generated case does not validate: {exc}") from None
