"""Declarative rules (DESIGN §7): TOML data, never code.

A clause such as ``"data.labeled_examples >= 1000"`` is parsed with Python's `ast` against a whitelist
(comparisons, and/or/not, + - * /, numbers, strings, booleans, lists of literals for `in`, and field paths), type-
checked against the known fields when the file is loaded, and compiled once into closures. Nothing is ever `eval`ed.
A comparison with a missing value (an optional field left empty) is false.
"""

import ast
import functools
import hashlib
import operator
import tomllib
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .candidates import ADAPTATIONS, SERVINGS
from .errors import RuleError, did_you_mean
from .io import describe_validation_error, shown, stamp
from .resources import shipped

MAX_CLAUSE_CHARS = 400
MAX_CLAUSE_NODES = 60


# -- the fields a clause may read -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    name: str  # "number", "bool", "str"
    values: tuple[str, ...] = ()  # allowed strings of an enum


NUMBER, BOOL, STR = Kind("number"), Kind("bool"), Kind("str")


def _kind(annotation: Any) -> Kind | None:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kind(typing.get_args(annotation)[0])
    if origin is Literal:
        return Kind("str", tuple(str(v) for v in typing.get_args(annotation)))
    if origin in (typing.Union, types.UnionType):
        kinds = [k for a in typing.get_args(annotation) if a is not type(None) and (k := _kind(a))]
        return kinds[0] if len(kinds) == 1 else None
    if annotation is bool:
        return BOOL
    if annotation in (int, float):
        return NUMBER
    if annotation is str:
        return STR
    return None


def _fields_of(model: type[BaseModel], prefix: str, skip: frozenset[str] = frozenset()) -> dict[str, Kind]:
    out = {}
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        if (k := _kind(info.annotation)) is not None:
            out[f"{prefix}{name}"] = k
    return out


# Facts derived for rules; engine.profile_context and engine.candidate_context fill them in.
DERIVED: dict[str, Kind] = {
    "evals.prompt": NUMBER, "evals.rag": NUMBER, "evals.fine_tune": NUMBER,
    "evals.baseline": NUMBER, "evals.has_baseline": BOOL,
    "candidate.adaptation": Kind("str", ADAPTATIONS), "candidate.rag": BOOL,
    "candidate.serving": Kind("str", SERVINGS),
}


@cache
def known_fields() -> dict[str, Kind]:
    """Every path a clause may read: profile fields, derived facts, and each candidate's costs and facts."""
    from .costs import Cost, Facts
    from .schema import Profile

    out: dict[str, Kind] = {}
    for section, info in Profile.model_fields.items():
        sub = info.annotation
        if not (isinstance(sub, type) and issubclass(sub, BaseModel)):
            continue  # schema_version, uncertainty
        out.update(_fields_of(sub, f"{section}."))
    out.update(DERIVED)
    out.update(_fields_of(Facts, "candidate."))
    out.update(_fields_of(Cost, "cost.", skip=frozenset({"monthly_usd"})))
    return out


# -- compiling clauses ----------------------------------------------------------------------------------------------

Ctx = dict[str, Any]
Fn = Callable[[Ctx], Any]

_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
        ast.Gt: operator.gt, ast.GtE: operator.ge}


class _ClauseError(Exception):
    pass


@dataclass(frozen=True)
class Clause:
    text: str
    fn: Fn
    paths: tuple[str, ...]
    fields: dict[str, Kind] = field(repr=False, compare=False, default_factory=dict)
    tree: ast.AST | None = field(repr=False, compare=False, default=None)

    def __call__(self, ctx: Ctx) -> bool:
        return bool(self.fn(ctx))

    @cached_property
    def vector(self) -> Fn:
        """The clause over numpy arrays of scenarios (NaN = missing): one boolean per scenario. Compiled on first
        use from the same checked text, so a decision never pays for it."""
        return _Compiler(self.fields, _VectorOps()).compile(self.tree)[0]


def _path(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class _ScalarOps:
    """How compiled clauses combine values for one scenario: a missing value (None) makes a comparison false."""

    @staticmethod
    def all(parts: list[Fn]) -> Fn:
        return lambda ctx: all(p(ctx) for p in parts)

    @staticmethod
    def any(parts: list[Fn]) -> Fn:
        return lambda ctx: any(p(ctx) for p in parts)

    @staticmethod
    def not_(inner: Fn) -> Fn:
        return lambda ctx: not inner(ctx)

    @staticmethod
    def arith(op: Callable[[Any, Any], Any], left: Fn, right: Fn) -> Fn:
        def arith(ctx: Ctx) -> Any:
            a, b = left(ctx), right(ctx)
            if a is None or b is None or (op is operator.truediv and b == 0):
                return None
            return op(a, b)
        return arith

    @staticmethod
    def compare(cmp: Callable[[Any, Any], Any], left: Fn, right: Fn, number: bool) -> Fn:
        def compare(ctx: Ctx) -> bool:
            a, b = left(ctx), right(ctx)
            return a is not None and b is not None and cmp(a, b)
        return compare

    @staticmethod
    def member(left: Fn, members: frozenset[Any], negate: bool, number: bool) -> Fn:
        if negate:
            return lambda ctx: (a := left(ctx)) is not None and a not in members
        return lambda ctx: (a := left(ctx)) is not None and a in members


class _VectorOps:
    """The same combinators over numpy arrays (one element per scenario); NaN plays None's part."""

    def __init__(self) -> None:
        import numpy

        self.np = numpy

    def all(self, parts: list[Fn]) -> Fn:
        np = self.np
        return lambda ctx: functools.reduce(np.logical_and, [p(ctx) for p in parts])

    def any(self, parts: list[Fn]) -> Fn:
        np = self.np
        return lambda ctx: functools.reduce(np.logical_or, [p(ctx) for p in parts])

    def not_(self, inner: Fn) -> Fn:
        np = self.np
        return lambda ctx: np.logical_not(inner(ctx))

    def arith(self, op: Callable[[Any, Any], Any], left: Fn, right: Fn) -> Fn:
        np = self.np

        def arith(ctx: Ctx) -> Any:
            a, b = left(ctx), right(ctx)
            if a is None or b is None:
                return None
            if op is operator.truediv:
                zero = np.equal(b, 0)
                return np.where(zero, np.nan, a / np.where(zero, 1, b))
            return op(a, b)
        return arith

    def compare(self, cmp: Callable[[Any, Any], Any], left: Fn, right: Fn, number: bool) -> Fn:
        np = self.np

        def compare(ctx: Ctx) -> Any:
            a, b = left(ctx), right(ctx)
            if a is None or b is None:
                return False
            if number:
                return np.logical_and(cmp(a, b), np.logical_not(np.isnan(a) | np.isnan(b)))
            return np.asarray(cmp(a, b), dtype=bool)
        return compare

    def member(self, left: Fn, members: frozenset[Any], negate: bool, number: bool) -> Fn:
        np = self.np
        listed = list(members)

        def member(ctx: Ctx) -> Any:
            a = left(ctx)
            if a is None:
                return False
            found = np.isin(a, listed)
            if negate:
                found = np.logical_not(found)
                if number:
                    found = found & np.logical_not(np.isnan(a))
            return found
        return member


class _Compiler:
    def __init__(self, fields: dict[str, Kind], ops: Any = _ScalarOps):
        self.fields = fields
        self.ops = ops
        self.paths: list[str] = []

    def compile(self, node: ast.AST) -> tuple[Fn, Kind]:
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                return (lambda ctx: value), BOOL
            if isinstance(value, (int, float)):
                if not abs(value) <= 1e300:  # also NaN; 1e309 parses as infinity
                    raise _ClauseError(f"number {ast.unparse(node)[:20]} is out of range")
                return (lambda ctx: value), NUMBER
            if isinstance(value, str):
                return (lambda ctx: value), STR
            raise _ClauseError(f"literal {value!r} is not allowed")
        if isinstance(node, (ast.Name, ast.Attribute)):
            path = _path(node)
            if path in ("true", "false"):
                raise _ClauseError(f"write {path.capitalize()}, not {path}")
            if path is None or path not in self.fields:
                raise _ClauseError(f"unknown field {path or ast.unparse(node)!r}"
                                   f"{did_you_mean(path or '', self.fields)}")
            self.paths.append(path)
            return (lambda ctx: ctx[path]), self.fields[path]
        if isinstance(node, ast.BoolOp):
            parts = [self._typed(v, BOOL, "and/or") for v in node.values]
            return (self.ops.all if isinstance(node.op, ast.And) else self.ops.any)(parts), BOOL
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return self.ops.not_(self._typed(node.operand, BOOL, "not")), BOOL
            if isinstance(node.op, (ast.USub, ast.UAdd)):
                inner = self._typed(node.operand, NUMBER, "unary minus")
                sign = -1 if isinstance(node.op, ast.USub) else 1
                return (lambda ctx: None if (v := inner(ctx)) is None else sign * v), NUMBER
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
            op = _ARITH[type(node.op)]
            left = self._typed(node.left, NUMBER, "arithmetic")
            right = self._typed(node.right, NUMBER, "arithmetic")
            return self.ops.arith(op, left, right), NUMBER
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.BinOp):
            symbol = {ast.Pow: "**", ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitAnd: "&",
                      ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}.get(type(node.op), "?")
            raise _ClauseError(f"the {symbol} operator is not allowed (only + - * /)")
        raise _ClauseError(f"{type(node).__name__} is not allowed (only comparisons, and/or/not, + - * /, "
                           f"literals and field paths)")

    def _typed(self, node: ast.AST, kind: Kind, where: str) -> Fn:
        fn, k = self.compile(node)
        if k.name != kind.name:
            raise _ClauseError(f"{where} needs a {kind.name}, but {ast.unparse(node)!r} is a {k.name}")
        return fn

    def _compare(self, node: ast.Compare) -> tuple[Fn, Kind]:
        """One comparison (`a < b`, `a in [...]`); chains are refused: write two clauses joined by `and`."""
        if len(node.ops) != 1:
            raise _ClauseError(f"{ast.unparse(node)!r}: one comparison at a time; join several with `and`")
        op, left_node, right_node = node.ops[0], node.left, node.comparators[0]
        if type(left_node) is type(right_node) and ast.dump(left_node) == ast.dump(right_node):
            raise _ClauseError(f"{ast.unparse(node)!r} compares a value with itself: it never depends on the project")
        left, lkind = self.compile(left_node)
        if isinstance(op, (ast.In, ast.NotIn)):
            if not isinstance(right_node, (ast.List, ast.Tuple)) or not all(
                    isinstance(e, ast.Constant) for e in right_node.elts):
                raise _ClauseError("`in` needs a list of literals, e.g. ['on_prem', 'air_gapped']")
            for elt in right_node.elts:
                self._check_pair(lkind, left_node, self.compile(elt)[1], elt)
            members = frozenset(e.value for e in right_node.elts)
            return self.ops.member(left, members, isinstance(op, ast.NotIn), lkind.name == "number"), BOOL
        if type(op) not in _CMP:
            raise _ClauseError(f"operator {type(op).__name__} is not allowed")
        right, rkind = self.compile(right_node)
        self._check_pair(lkind, left_node, rkind, right_node)
        if lkind.name != "number" and not isinstance(op, (ast.Eq, ast.NotEq)):
            raise _ClauseError(f"{ast.unparse(node)!r}: only numbers can be ordered")
        return self.ops.compare(_CMP[type(op)], left, right, lkind.name == "number"), BOOL

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


def compile_clause(text: str, fields: dict[str, Kind] | None = None) -> Clause:
    fields = fields if fields is not None else known_fields()
    if len(text) > MAX_CLAUSE_CHARS:
        raise _ClauseError(f"clause longer than {MAX_CLAUSE_CHARS} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise _ClauseError(f"not a valid condition: {e.msg}") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_CLAUSE_NODES:
        raise _ClauseError(f"clause has more than {MAX_CLAUSE_NODES} parts; split it")
    compiler = _Compiler(fields)
    fn, kind = compiler.compile(tree.body)
    if kind.name != "bool":
        raise _ClauseError(f"a condition must be true or false, but {text!r} is a {kind.name}")
    if not compiler.paths:
        raise _ClauseError("reads no field: a constant condition would fire always or never")
    return Clause(text=text, fn=fn, paths=tuple(dict.fromkeys(compiler.paths)), fields=fields, tree=tree.body)


# -- rule files -----------------------------------------------------------------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Applies(_Strict):
    adaptation: list[Literal["prompt", "fine-tune", "continued-pretrain", "pretrain"]] | None = None
    rag: bool | None = None
    serving: list[Literal["api", "self-host", "on-device"]] | None = None


class When(_Strict):
    all: list[str] = []
    any: list[str] = []
    none: list[str] = []

    @model_validator(mode="after")
    def _not_empty(self) -> "When":
        if not (self.all or self.any or self.none):
            raise ValueError("a condition needs at least one clause in all, any or none")
        return self


class Policy(BaseModel):
    """The `[ruleset]` table: the rule set's identity and how cost turns into points (see engine.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str = Field(default="unversioned", min_length=1)
    cost_weight: float = Field(default=10, ge=0, le=1000, allow_inf_nan=False)
    cost_cap: float = Field(default=40, ge=0, le=10000, allow_inf_nan=False)


class Example(_Strict):
    given: dict[str, Any]
    fires: bool


class RuleSpec(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)
    title: str = Field(min_length=1)
    applies: Applies = Applies()
    when: When
    veto: bool = False
    points: float = Field(default=0, allow_inf_nan=False, ge=-1000, le=1000)
    why: str = Field(min_length=1)
    source: str = Field(min_length=1)
    example: list[Example] = []

    # Not strict here: `points = 5` (a TOML integer) is a valid float.
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)

    @model_validator(mode="after")
    def _one_effect(self) -> "RuleSpec":
        if self.veto == bool(self.points):
            raise ValueError("a rule has exactly one effect: veto = true, or non-zero points")
        return self


class Veto(BaseModel):
    """A fired veto as the decision shows it."""

    model_config = ConfigDict(frozen=True)
    rule: str
    why: str


class Reason(BaseModel):
    """A fired points rule as the decision shows it."""

    model_config = ConfigDict(frozen=True)
    rule: str
    points: float
    why: str
    source: str


@dataclass(frozen=True)
class Rule:
    spec: RuleSpec
    file: str
    all: tuple[Clause, ...]
    any: tuple[Clause, ...]
    none: tuple[Clause, ...]

    @property
    def id(self) -> str:
        return self.spec.id

    @cached_property
    def per_candidate(self) -> bool:
        """Whether the rule reads the candidate's computed fields; if not, one evaluation serves every candidate."""
        return any(p.startswith(("candidate.", "cost.")) for _, c in self.clauses() for p in c.paths)

    @cached_property
    def effect(self) -> Veto | Reason:
        """What the rule contributes when it fires; built once, shared by every candidate and decision."""
        s = self.spec
        return Veto(rule=s.id, why=s.why) if s.veto else Reason(rule=s.id, points=s.points, why=s.why, source=s.source)

    def applies_to(self, adaptation: str, rag: bool, serving: str) -> bool:
        a = self.spec.applies
        return ((a.adaptation is None or adaptation in a.adaptation) and (a.rag is None or a.rag == rag)
                and (a.serving is None or serving in a.serving))

    @cached_property
    def fires(self) -> Callable[[Ctx], bool]:
        """`rule.fires(ctx)`: the condition as one closure over the clauses' compiled functions, built once (no
        per-call indirection in the scoring loop)."""
        all_, any_, none_ = (tuple(c.fn for c in group) for group in (self.all, self.any, self.none))

        def fires(ctx: Ctx) -> bool:
            for f in all_:
                if not f(ctx):
                    return False
            if any_ and not any(f(ctx) for f in any_):
                return False
            for f in none_:
                if f(ctx):
                    return False
            return True
        return fires

    def fires_vector(self, ctx: Ctx) -> Any:
        """`fires` for every scenario at once: a boolean per scenario (or one boolean if nothing varies)."""
        import numpy as np

        fired = functools.reduce(np.logical_and, [c.vector(ctx) for c in self.all], True)
        if self.any:
            fired = fired & functools.reduce(np.logical_or, [c.vector(ctx) for c in self.any])
        for c in self.none:
            fired = fired & np.logical_not(c.vector(ctx))
        return fired

    def clauses(self) -> list[tuple[str, Clause]]:
        return [("all", c) for c in self.all] + [("any", c) for c in self.any] + [("none", c) for c in self.none]


class Shape(NamedTuple):
    """The rules that apply to one candidate shape (adaptation, retrieval, serving), in file order."""

    rules: tuple[Rule, ...]
    once: tuple[Rule, ...]  # reading only the profile
    once_ids: frozenset[int]  # their id()s, for keeping the fired ones of a profile
    each: tuple[Rule, ...]  # reading the candidate's computed fields
    reads: tuple[str, ...]  # the `candidate.*` / `cost.*` paths `each` reads: all a candidate must provide


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    policy: Policy
    digest: str
    _shapes: dict[tuple[Any, ...], Shape] = field(default_factory=dict, compare=False, repr=False)

    @property
    def version(self) -> str:
        return self.policy.version

    @cached_property
    def profile_rules(self) -> tuple[Rule, ...]:
        """The rules that read only the profile: the scoring loop evaluates each once per profile."""
        return tuple(r for r in self.rules if not r.per_candidate)

    def shape(self, adaptation: str, rag: bool, serving: str) -> Shape:
        """The rules that apply to a candidate shape, split for the scoring loop (memoised: 20 shapes at most)."""
        key = (adaptation, rag, serving)
        found = self._shapes.get(key)
        if found is None:
            rules = tuple(r for r in self.rules if r.applies_to(*key))
            once = tuple(r for r in rules if not r.per_candidate)
            each = tuple(r for r in rules if r.per_candidate)
            reads = tuple(dict.fromkeys(p for r in each for _, c in r.clauses() for p in c.paths
                                        if p.startswith(("candidate.", "cost."))))
            found = self._shapes[key] = Shape(rules, once, frozenset(map(id, once)), each, reads)
        return found

    def examples_failures(self) -> list[str]:
        """Run every rule's `[[rule.example]]`: a list of failures (empty when all pass)."""
        failures = []
        for rule in self.rules:
            for i, ex in enumerate(rule.spec.example, 1):
                missing = [p for _, c in rule.clauses() for p in c.paths if p not in ex.given]
                if missing:
                    failures.append(f"{rule.file}: rule {rule.id}: example {i} lacks {', '.join(sorted(set(missing)))}")
                    continue
                got = rule.fires(ex.given)
                if got != ex.fires:
                    failures.append(f"{rule.file}: rule {rule.id}: example {i} expected fires={ex.fires}, got {got}")
        return failures


def _rule_files(directory: Path) -> list[Path]:
    if not directory.exists():
        raise RuleError(f"{shown(directory)}: no such rules directory")
    if directory.is_file():
        return [directory]
    return sorted(directory.glob("*.toml"))


def _load_file(path: Path, fields: dict[str, Kind]) -> tuple[list[Rule], dict[str, Any], bytes]:
    """Rules, the raw `[ruleset]` table (checked once merged) and the file's bytes (for the digest)."""
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise RuleError(f"{shown(path)}: cannot read rule file: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise RuleError(f"{shown(path)}: not valid TOML: {e}") from None
    unknown = set(data) - {"rule", "ruleset"}
    if unknown:
        raise RuleError(f"{shown(path)}: unknown top-level key {sorted(unknown)[0]!r} (expected [[rule]] or [ruleset])")
    rules = []
    for i, entry in enumerate(data.get("rule", []), 1):
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
        rules.append(Rule(spec=spec, file=path.name, **compiled))
    return rules, data.get("ruleset", {}), raw


def load_rules(*extra_dirs: str | Path, include_shipped: bool = True) -> RuleSet:
    """The shipped rules plus every `*.toml` in each extra directory; any problem is one RuleError naming the file.

    Loaded rule sets are cached (compiling is the slow part), keyed on the files' sizes and modification times so an
    edited rule file is picked up by the next call.
    """
    dirs = tuple(([shipped("rules")] if include_shipped else []) + [Path(d).resolve() for d in extra_dirs])
    return _load(dirs, _stamp(dirs))


def _stamp(dirs: tuple[Path, ...]) -> tuple[tuple[str, tuple[int, int] | None], ...]:
    """Every rule file with its stamp (a file that cannot be read is reported when _load reads it)."""
    return tuple((str(path), stamp(path)) for directory in dirs
                 for path in (_rule_files(directory) if directory.exists() else []))


@cache
def _load(dirs: tuple[Path, ...], stamps: tuple[tuple[str, tuple[int, int] | None], ...]) -> RuleSet:
    fields = known_fields()
    rules: list[Rule] = []
    digest = hashlib.sha256()
    meta: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for directory in dirs:
        for path in _rule_files(directory):
            file_rules, file_meta, raw = _load_file(path, fields)
            meta.update(file_meta)
            digest.update(path.name.encode() + b"\0" + raw + b"\0")
            for rule in file_rules:
                if rule.id in seen:
                    raise RuleError(f"{shown(path)}: rule {rule.id}: id already used in {seen[rule.id]}")
                seen[rule.id] = str(path)
                rules.append(rule)
    if not rules:
        raise RuleError(f"no rules found in {', '.join(map(str, dirs))}")
    try:
        policy = Policy.model_validate(meta)
    except ValidationError as e:
        raise RuleError(f"[ruleset] in {', '.join(map(str, dirs))}: {describe_validation_error(e, Policy)}") from None
    return RuleSet(rules=tuple(rules), policy=policy, digest=digest.hexdigest()[:16])
