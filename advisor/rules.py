"""Declarative rules (DESIGN §7): TOML data, never code.

A clause such as ``"data.labeled_examples >= 1000"`` is parsed with Python's `ast` against a whitelist
(comparisons, and/or/not, + - * /, numbers, strings, booleans, lists of literals for `in`, and field paths), type-
checked against the known fields when the file is loaded, and compiled once into closures over the columns of a
frame (see `frame`): one compiled rule decides one profile, a batch of profiles or thousands of scenarios alike.
Nothing is ever `eval`ed.

Logic is three-valued: a clause reading a value the profile leaves unknown (NaN or None in the frame) is neither
true nor false, so it makes a rule neither fire nor fail. A compiled condition returns two boolean arrays, "surely
true" and "surely false"; `not` swaps them, and a rule fires only where its condition is surely true.
"""

import ast
import functools
import hashlib
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .candidates import ADAPTATIONS, SERVINGS, Candidate, all_candidates
from .errors import RuleError, did_you_mean
from .frame import EVAL_FACTS, Array
from .io import describe_validation_error, read_toml, shown
from .resources import shipped
from .schema import BOOL, NUMBER, STR, Kind, kinds_of, profile_fields

MAX_RULES = 1_000  # in all, shipped included (57 ship): a hostile pack cannot make every decision crawl
MAX_CLAUSES = 20  # per group (all, any, none) of one rule
MAX_EXAMPLES = 50  # per rule
MAX_CLAUSE_CHARS = 400
MAX_CLAUSE_NODES = 60


# -- the fields a clause may read -----------------------------------------------------------------------------------

CANDIDATE_SHAPE: dict[str, Kind] = {
    "candidate.adaptation": Kind("str", ADAPTATIONS), "candidate.rag": BOOL,
    "candidate.serving": Kind("str", SERVINGS),
}


@cache
def known_fields() -> dict[str, Kind]:
    """Every path a clause may read: profile fields, derived eval facts, and each candidate's costs and facts."""
    from .cost_model import Cost, Facts

    cost = kinds_of(Cost, "cost.")
    cost.pop("cost.monthly_usd", None)
    return {**profile_fields(), **EVAL_FACTS, **CANDIDATE_SHAPE, **kinds_of(Facts, "candidate."), **cost}


# -- compiling clauses ----------------------------------------------------------------------------------------------

Ctx = Mapping[str, Any]  # field path → array (0-d or one value per scenario)
Value = Callable[[Ctx], Any]
Truth = tuple[Array, Array]  # (surely true, surely false), per scenario
Condition = Callable[[Ctx], Truth]

_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}
# Each order and its complement: where neither holds, a value was unknown (NaN compares false both ways).
_ORDER = {ast.Lt: (np.less, np.greater_equal), ast.LtE: (np.less_equal, np.greater),
          ast.Gt: (np.greater, np.less_equal), ast.GtE: (np.greater_equal, np.less)}


class _ClauseError(Exception):
    pass


def _known(value: Any, kind: Kind) -> Array:
    if kind.name == "str":
        return np.asarray([v is not None for v in np.asarray(value, dtype=object).flat], dtype=bool).reshape(
            np.shape(value))
    return np.asarray(~np.isnan(np.asarray(value, dtype=float)))


def _swap(truth: Truth) -> Truth:
    """`not`: what was surely true is surely false, and the reverse; unknown stays unknown."""
    return truth[1], truth[0]


def _divide(a: Any, b: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(np.equal(b, 0), np.nan, np.divide(a, np.where(np.equal(b, 0), 1, b)))


@dataclass(frozen=True)
class Clause:
    text: str
    truth: Condition = field(repr=False, compare=False)
    paths: tuple[str, ...]

    def __call__(self, ctx: Ctx) -> Truth:
        return self.truth(ctx)


def _path(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class _Compiler:
    def __init__(self, fields: Mapping[str, Kind]):
        self.fields = fields
        self.paths: list[str] = []

    # A condition: something true or false.
    def condition(self, node: ast.AST) -> Condition:
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            truth = (np.asarray(node.value), np.asarray(not node.value))
            return lambda ctx: truth
        if isinstance(node, ast.BoolOp):
            parts = [self.condition(v) for v in node.values]
            if isinstance(node.op, ast.And):
                return lambda ctx: functools.reduce(
                    lambda acc, t: (acc[0] & t[0], acc[1] | t[1]), (p(ctx) for p in parts))
            return lambda ctx: functools.reduce(lambda acc, t: (acc[0] | t[0], acc[1] & t[1]), (p(ctx) for p in parts))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.condition(node.operand)
            return lambda ctx: _swap(inner(ctx))
        if isinstance(node, ast.Compare):
            return self._compare(node)
        fn, kind = self.value(node)
        if kind.name != "bool":
            raise _ClauseError(f"a condition must be true or false, but {ast.unparse(node)!r} is a {kind.name}")
        return lambda ctx: (np.equal(v := fn(ctx), 1), np.equal(v, 0))

    # A value: a number, a text or a yes/no read as 1/0.
    def value(self, node: ast.AST) -> tuple[Value, Kind]:
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool):
                return (lambda ctx: float(v)), BOOL
            if isinstance(v, (int, float)):
                if not abs(v) <= 1e300:  # also NaN; 1e309 parses as infinity
                    raise _ClauseError(f"number {ast.unparse(node)[:20]} is out of range")
                return (lambda ctx: v), NUMBER
            if isinstance(v, str):
                return (lambda ctx: v), STR
            raise _ClauseError(f"literal {v!r} is not allowed")
        if isinstance(node, (ast.Name, ast.Attribute)):
            path = _path(node)
            if path in ("true", "false"):
                raise _ClauseError(f"write {path.capitalize()}, not {path}")
            if path is None or path not in self.fields:
                raise _ClauseError(f"unknown field {path or ast.unparse(node)!r}"
                                   f"{did_you_mean(path or '', self.fields)}")
            self.paths.append(path)
            return (lambda ctx: ctx[path]), self.fields[path]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self._typed(node.operand, NUMBER, "unary minus")
            return ((lambda ctx: -inner(ctx)) if isinstance(node.op, ast.USub) else inner), NUMBER
        if isinstance(node, ast.BinOp) and type(node.op) in (*_ARITH, ast.Div):
            left = self._typed(node.left, NUMBER, "arithmetic")
            right = self._typed(node.right, NUMBER, "arithmetic")
            if isinstance(node.op, ast.Div):  # by zero: unknown
                return (lambda ctx: _divide(left(ctx), right(ctx))), NUMBER
            op = _ARITH[type(node.op)]
            return (lambda ctx: op(left(ctx), right(ctx))), NUMBER
        if isinstance(node, ast.BinOp):
            symbol = {ast.Pow: "**", ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitAnd: "&",
                      ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}.get(type(node.op), "?")
            raise _ClauseError(f"the {symbol} operator is not allowed (only + - * /)")
        if isinstance(node, (ast.BoolOp, ast.Compare)) or (isinstance(node, ast.UnaryOp)
                                                            and isinstance(node.op, ast.Not)):
            raise _ClauseError(f"{ast.unparse(node)!r} is a condition, not a value")
        raise _ClauseError(f"{type(node).__name__} is not allowed (only comparisons, and/or/not, + - * /, "
                           f"literals and field paths)")

    def _typed(self, node: ast.AST, kind: Kind, where: str) -> Value:
        fn, k = self.value(node)
        if k.name != kind.name:
            raise _ClauseError(f"{where} needs a {kind.name}, but {ast.unparse(node)!r} is a {k.name}")
        return fn

    def _compare(self, node: ast.Compare) -> Condition:
        """One comparison (`a < b`, `a in [...]`); chains are refused: write two clauses joined by `and`."""
        if len(node.ops) != 1:
            raise _ClauseError(f"{ast.unparse(node)!r}: one comparison at a time; join several with `and`")
        op, left_node, right_node = node.ops[0], node.left, node.comparators[0]
        if type(left_node) is type(right_node) and ast.dump(left_node) == ast.dump(right_node):
            raise _ClauseError(f"{ast.unparse(node)!r} compares a value with itself: it never depends on the project")
        if isinstance(op, (ast.Is, ast.IsNot)):
            if not (isinstance(right_node, ast.Constant) and right_node.value is None):
                raise _ClauseError("`is` only tests for an unknown value: `field is None` or `field is not None`")
            value, vkind = self.value(left_node)

            def unknown(ctx: Ctx) -> Truth:
                known = _known(value(ctx), vkind)
                return ~known, known
            return unknown if isinstance(op, ast.Is) else (lambda ctx: _swap(unknown(ctx)))
        left, lkind = self.value(left_node)
        if isinstance(op, (ast.In, ast.NotIn)):
            if not isinstance(right_node, (ast.List, ast.Tuple)) or not all(
                    isinstance(e, ast.Constant) for e in right_node.elts):
                raise _ClauseError("`in` needs a list of literals, e.g. ['on_prem', 'air_gapped']")
            for elt in right_node.elts:
                self._check_pair(lkind, left_node, self.value(elt)[1], elt)
            members = tuple(float(e.value) if lkind.name != "str" else e.value  # type: ignore[attr-defined]
                            for e in right_node.elts)

            def member(ctx: Ctx) -> Truth:
                a = left(ctx)
                hit = functools.reduce(np.logical_or, (np.equal(a, m) for m in members), np.asarray(False))
                hit = np.asarray(hit, dtype=bool)
                return hit, ~hit & _known(a, lkind)
            if isinstance(op, ast.NotIn):
                return lambda ctx: _swap(member(ctx))
            return member
        if not isinstance(op, (ast.Eq, ast.NotEq, *_ORDER)):
            raise _ClauseError(f"operator {type(op).__name__} is not allowed")
        right, rkind = self.value(right_node)
        self._check_pair(lkind, left_node, rkind, right_node)
        if type(op) in _ORDER:
            if lkind.name != "number":
                raise _ClauseError(f"{ast.unparse(node)!r}: only numbers can be ordered")
            holds, fails = _ORDER[type(op)]
            return lambda ctx: (holds(a := left(ctx), b := right(ctx)), fails(a, b))

        def equal(ctx: Ctx) -> Truth:
            a, b = left(ctx), right(ctx)
            known = _known(a, lkind) & _known(b, rkind)
            same = np.asarray(np.equal(a, b), dtype=bool) & known
            return same, ~same & known
        if isinstance(op, ast.NotEq):
            return lambda ctx: _swap(equal(ctx))
        return equal

    @staticmethod
    def _check_pair(a: Kind, a_node: ast.AST, b: Kind, b_node: ast.AST) -> None:
        """An enum field compared with a string literal: the literal must be one of its values (catches typos)."""
        for kind, node, other in ((a, a_node, b_node), (b, b_node, a_node)):
            if kind.values and isinstance(other, ast.Constant) and isinstance(other.value, str):
                if other.value not in kind.values:
                    raise _ClauseError(f"{ast.unparse(node)} is never {other.value!r}"
                                       f"{did_you_mean(other.value, kind.values)}; values: {', '.join(kind.values)}")
            if a.name != b.name:
                raise _ClauseError(f"cannot compare {ast.unparse(a_node)!r} ({a.name}) with "
                                   f"{ast.unparse(b_node)!r} ({b.name})")


def _parse(text: str, what: str) -> ast.expr:
    if len(text) > MAX_CLAUSE_CHARS:
        raise _ClauseError(f"{what} longer than {MAX_CLAUSE_CHARS} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise _ClauseError(f"not a valid {what}: {e.msg}") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_CLAUSE_NODES:
        raise _ClauseError(f"{what} has more than {MAX_CLAUSE_NODES} parts; split it")
    return tree.body


def compile_clause(text: str, fields: Mapping[str, Kind] | None = None) -> Clause:
    compiler = _Compiler(fields if fields is not None else known_fields())
    truth = compiler.condition(_parse(text, "condition"))
    if not compiler.paths:
        raise _ClauseError("reads no field: a constant condition would fire always or never")
    return Clause(text=text, truth=truth, paths=tuple(dict.fromkeys(compiler.paths)))


@dataclass(frozen=True)
class Expression:
    """A numeric expression over fields (a rule's `per`): NaN where a value it reads is unknown."""

    text: str
    value: Value = field(repr=False, compare=False)
    paths: tuple[str, ...]

    def __call__(self, ctx: Ctx) -> Array:
        return np.asarray(self.value(ctx), dtype=float)


def compile_expression(text: str, fields: Mapping[str, Kind] | None = None) -> Expression:
    compiler = _Compiler(fields if fields is not None else known_fields())
    node = _parse(text, "expression")
    fn = compiler._typed(node, NUMBER, "`per`")
    if not compiler.paths:
        raise _ClauseError("reads no field: a constant would scale the points the same for everyone")
    return Expression(text=text, value=fn, paths=tuple(dict.fromkeys(compiler.paths)))


def context(given: Mapping[str, Any], fields: Mapping[str, Kind]) -> dict[str, Array]:
    """Plain values (a rule example's `given`) as the 0-d columns a compiled clause reads."""
    out: dict[str, Array] = {}
    for path, value in given.items():
        kind = fields.get(path)
        if kind is not None and kind.name == "str":
            out[path] = np.array(value, dtype=object)
        elif isinstance(value, (bool, int, float)) or value is None:
            out[path] = np.asarray(np.nan if value is None else float(value))
        else:
            raise RuleError(f"example value for {path} must be a {kind.name if kind else 'value'}, not {value!r}")
    return out


# -- rule files -----------------------------------------------------------------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Applies(_Strict):
    adaptation: list[Literal["prompt", "fine-tune", "continued-pretrain", "pretrain"]] | None = None
    rag: bool | None = None
    serving: list[Literal["api", "self-host", "on-device"]] | None = None


class When(_Strict):
    # A condition people can read: the shipped rules use at most 4 clauses in a group.
    all: list[str] = Field(default=[], max_length=MAX_CLAUSES)
    any: list[str] = Field(default=[], max_length=MAX_CLAUSES)
    none: list[str] = Field(default=[], max_length=MAX_CLAUSES)

    @model_validator(mode="after")
    def _not_empty(self) -> "When":
        if not (self.all or self.any or self.none):
            raise ValueError("a condition needs at least one clause in all, any or none")
        return self


Criterion = Literal["quality", "cost", "speed", "control"]
CRITERIA: tuple[Criterion, ...] = ("quality", "cost", "speed", "control")
FitLevel = Literal["meets", "likely", "uncertain", "unlikely", "fails"]
FIT_LEVELS: tuple[FitLevel, ...] = ("meets", "likely", "uncertain", "unlikely", "fails")
Number = Annotated[float, Field(ge=-1000, le=1000, allow_inf_nan=False)]


class Weights(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    quality: float = Field(default=1, ge=0, le=100, allow_inf_nan=False)
    cost: float = Field(default=1, ge=0, le=100, allow_inf_nan=False)
    speed: float = Field(default=1, ge=0, le=100, allow_inf_nan=False)
    control: float = Field(default=1, ge=0, le=100, allow_inf_nan=False)


class FitPoints(BaseModel):
    """Quality points for each fit; `fails` is a must-have and vetoes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    meets: Number = 20
    likely: Number = 10
    uncertain: Number = 0
    unlikely: Number = -20


class Confidence(BaseModel):
    """How sure a recommendation is (DESIGN §11): `high` needs the margin and the Monte Carlo win share at or above
    the high marks (and a fit of at least `likely`, the latency target met, the cash budget kept)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    high_margin: float = Field(default=15, ge=0, le=1000, allow_inf_nan=False)
    medium_margin: float = Field(default=5, ge=0, le=1000, allow_inf_nan=False)
    high_share: float = Field(default=0.8, ge=0, le=1, allow_inf_nan=False)
    medium_share: float = Field(default=0.5, ge=0, le=1, allow_inf_nan=False)


class Policy(BaseModel):
    """The `[ruleset]` table: the rule set's identity and how judgments become points (see engine.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    # shown in every memo's front matter and JSON: a plain token, never a line break or markup
    version: str = Field(default="unversioned", pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,39}$")
    cost_weight: float = Field(default=10, ge=0, le=1000, allow_inf_nan=False)
    cost_cap: float = Field(default=40, ge=0, le=10000, allow_inf_nan=False)
    cost_source: str = "advisor scoring policy: each doubling of total cost over the cheapest viable path"
    weights: Weights = Weights()
    fit_points: FitPoints = FitPoints()
    confidence: Confidence = Confidence()


class Example(_Strict):
    given: dict[str, Any]
    fires: bool


class RuleSpec(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)
    title: str = Field(min_length=1)
    applies: Applies = Applies()
    when: When
    veto: bool = False
    points: Number = 0
    criterion: Criterion | None = None
    per: str | None = Field(default=None, min_length=1)
    cap: float | None = Field(default=None, gt=0, le=1000, allow_inf_nan=False)
    fit: FitLevel | None = None
    why: str = Field(min_length=1)
    source: str = Field(min_length=1)
    example: list[Example] = Field(default=[], max_length=MAX_EXAMPLES)

    # Not strict here: `points = 5` (a TOML integer) is a valid float.
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)

    @model_validator(mode="after")
    def _one_effect(self) -> "RuleSpec":
        if [self.veto, bool(self.points), self.fit is not None].count(True) != 1:
            raise ValueError("a rule has exactly one effect: veto = true, non-zero points, or a quality fit")
        if self.points and self.criterion is None:
            raise ValueError("points need a criterion: quality, cost, speed or control")
        if (self.per is not None or self.cap is not None) and not self.points:
            raise ValueError("per and cap scale points; this rule has none")
        return self


class Veto(BaseModel):
    """A fired veto as the decision shows it."""

    model_config = ConfigDict(frozen=True)
    rule: str
    why: str


class Reason(BaseModel):
    """Points a candidate got, as the decision shows them: the rule (or the scoring policy's cost term) that gave
    them, weighted, and the criterion they count for."""

    model_config = ConfigDict(frozen=True)
    rule: str
    points: float
    why: str
    source: str
    criterion: Criterion


@dataclass(frozen=True)
class Rule:
    spec: RuleSpec
    file: str
    all: tuple[Clause, ...]
    any: tuple[Clause, ...]
    none: tuple[Clause, ...]
    per: Expression | None = None

    @property
    def id(self) -> str:
        return self.spec.id

    @cached_property
    def per_candidate(self) -> bool:
        """Whether the rule reads the candidate's computed fields; if not, one evaluation serves every candidate."""
        paths = [p for _, c in self.clauses() for p in c.paths] + list(self.per.paths if self.per else ())
        return any(p.startswith(("candidate.", "cost.")) for p in paths)

    def points(self, ctx: Ctx) -> Array:
        """The rule's points where it fires: scaled by `per` (capped at `cap`; an unknown or unbounded scale counts
        as the cap), before the criterion's weight."""
        s = self.spec
        if self.per is None:
            return np.asarray(s.points)
        scale = self.per(ctx)
        cap = s.cap if s.cap is not None else abs(s.points)
        with np.errstate(invalid="ignore", over="ignore"):
            scaled = np.where(np.isfinite(scale), s.points * np.maximum(scale, 0), np.copysign(cap, s.points))
        return np.asarray(np.clip(scaled, -cap, cap))

    @cached_property
    def veto(self) -> Veto:
        """What a veto rule says when it fires; built once, shared by every candidate and decision."""
        return Veto(rule=self.spec.id, why=self.spec.why)

    def reason(self, points: float, criterion: Criterion) -> Reason:
        """What a points or fit rule says when it fires: the points it gave (weighted) and their criterion."""
        s = self.spec
        return Reason(rule=s.id, points=points, why=s.why, source=s.source, criterion=criterion)

    def applies_to(self, c: Candidate) -> bool:
        a = self.spec.applies
        return ((a.adaptation is None or c.adaptation in a.adaptation) and (a.rag is None or a.rag == c.rag)
                and (a.serving is None or c.serving in a.serving))

    def fires(self, ctx: Ctx) -> Array:
        """Where the condition surely holds, per scenario: every `all` clause true, some `any` clause true, and
        every `none` clause false."""
        fired = np.asarray(True)
        for c in self.all:
            fired = fired & c(ctx)[0]
            if not fired.any():
                return fired
        if self.any:
            fired = fired & functools.reduce(np.logical_or, (c(ctx)[0] for c in self.any))
        for c in self.none:
            fired = fired & c(ctx)[1]
        return fired

    def clauses(self) -> list[tuple[str, Clause]]:
        return [("all", c) for c in self.all] + [("any", c) for c in self.any] + [("none", c) for c in self.none]


@dataclass(frozen=True)
class Shape:
    """The rules that apply to one candidate, in file order."""

    rules: tuple[Rule, ...]
    once: tuple[Rule, ...]  # vetoes and points reading only the profile: evaluated once per frame
    each: tuple[Rule, ...]  # vetoes and points reading the candidate's computed fields
    fits: tuple[Rule, ...]  # quality-fit judgments, in file order: the first that fires decides


class RuleSet:
    """Loaded, checked and compiled rules, with what applies to each candidate worked out once."""

    def __init__(self, rules: tuple[Rule, ...], policy: Policy, digest: str):
        self.rules, self.policy, self.digest = rules, policy, digest
        self.profile_rules = tuple(r for r in rules if not r.per_candidate)
        self.shapes: dict[Candidate, Shape] = {}
        for c in all_candidates():
            applying = tuple(r for r in rules if r.applies_to(c))
            judged = tuple(r for r in applying if r.spec.fit is None)
            self.shapes[c] = Shape(applying, tuple(r for r in judged if not r.per_candidate),
                                   tuple(r for r in judged if r.per_candidate),
                                   tuple(r for r in applying if r.spec.fit is not None))

    @property
    def version(self) -> str:
        return self.policy.version

    @np.errstate(over="ignore", invalid="ignore")  # as in engine.score
    def examples_failures(self) -> list[str]:
        """Run every rule's `[[rule.example]]`: a list of failures (empty when all pass)."""
        failures = []
        fields = known_fields()
        for rule in self.rules:
            for i, ex in enumerate(rule.spec.example, 1):
                unknown = [p for p in ex.given if p not in fields]
                if unknown:
                    failures.append(f"{rule.file}: rule {rule.id}: example {i} gives unknown field {unknown[0]!r}"
                                    f"{did_you_mean(unknown[0], fields)}")
                    continue
                missing = [p for _, c in rule.clauses() for p in c.paths if p not in ex.given]
                if missing:
                    failures.append(f"{rule.file}: rule {rule.id}: example {i} lacks {', '.join(sorted(set(missing)))}")
                    continue
                try:
                    got = bool(rule.fires(context(ex.given, fields)))
                except RuleError as e:
                    failures.append(f"{rule.file}: rule {rule.id}: example {i}: {e}")
                    continue
                if got != ex.fires:
                    failures.append(f"{rule.file}: rule {rule.id}: example {i} expected fires={ex.fires}, got {got}")
        return failures


def rule_files(directory: Path) -> list[Path]:
    """The rule files `load_rules` reads from a `--rules` entry: the file itself, or a directory's `*.toml`."""
    if not directory.exists():
        raise RuleError(f"{shown(directory)}: no such rules directory")
    if directory.is_file():
        return [directory]
    if not directory.is_dir():
        raise RuleError(f"{shown(directory)}: is not a rules directory or file (a device, pipe or socket)")
    return sorted(directory.glob("*.toml"))


def _load_file(path: Path, fields: Mapping[str, Kind]) -> tuple[list[Rule], dict[str, Any], bytes]:
    """Rules, the raw `[ruleset]` table (checked once merged) and the file's bytes (for the digest)."""
    data, text = read_toml(path, "rule", RuleError)
    raw = text.encode()
    unknown = set(data) - {"rule", "ruleset"}
    if unknown:
        raise RuleError(f"{shown(path)}: unknown top-level key {sorted(unknown)[0]!r} (expected [[rule]] or [ruleset])")
    entries = data.get("rule", [])
    if isinstance(entries, list) and len(entries) > MAX_RULES:
        raise RuleError(f"{shown(path)}: {len(entries):,} rules; at most {MAX_RULES:,} in all")
    rules = []
    for i, entry in enumerate(entries, 1):
        rid = entry.get("id", f"#{i}") if isinstance(entry, dict) else f"#{i}"
        try:
            spec = RuleSpec.model_validate(entry)
        except ValidationError as e:
            raise RuleError(f"{shown(path)}: rule {rid}: {describe_validation_error(e, RuleSpec)}") from None
        compiled = {}
        for group in ("all", "any", "none"):
            out = []
            for text in getattr(spec.when, group):
                try:
                    out.append(compile_clause(text, fields))
                except _ClauseError as e:
                    raise RuleError(f"{shown(path)}: rule {spec.id}: when.{group} {text!r}: {e}") from None
            compiled[group] = tuple(out)
        per = None
        if spec.per is not None:
            try:
                per = compile_expression(spec.per, fields)
            except _ClauseError as e:
                raise RuleError(f"{shown(path)}: rule {spec.id}: per {spec.per!r}: {e}") from None
        rules.append(Rule(spec=spec, file=path.name, per=per, **compiled))
    return rules, data.get("ruleset", {}), raw


def load_rules(*extra_dirs: str | Path, include_shipped: bool = True) -> RuleSet:
    """The shipped rules plus every `*.toml` in each extra directory; any problem is one RuleError naming the file."""
    dirs = [shipped("rules")] if include_shipped else []
    dirs += [Path(d) for d in extra_dirs]
    fields = known_fields()
    rules: list[Rule] = []
    digest = hashlib.sha256()
    meta: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for directory in dirs:
        for path in rule_files(directory):
            file_rules, file_meta, raw = _load_file(path, fields)
            meta.update(file_meta)
            digest.update(path.name.encode() + b"\0" + raw + b"\0")
            for rule in file_rules:
                if rule.id in seen:
                    raise RuleError(f"{shown(path)}: rule {rule.id}: id already used in {seen[rule.id]}")
                seen[rule.id] = str(path)
                rules.append(rule)
            if len(rules) > MAX_RULES:
                raise RuleError(f"{shown(path)}: more than {MAX_RULES:,} rules in all (the shipped rules "
                                f"included); a rule set is a policy people review, and each rule costs every decision")
    if not rules:
        raise RuleError(f"no rules found in {', '.join(map(str, dirs))}")
    try:
        policy = Policy.model_validate(meta)
    except ValidationError as e:
        raise RuleError(f"[ruleset] in {', '.join(map(str, dirs))}: {describe_validation_error(e, Policy)}") from None
    return RuleSet(rules=tuple(rules), policy=policy, digest=digest.hexdigest()[:16])
