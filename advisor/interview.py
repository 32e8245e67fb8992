"""The guided interview: questions derived from the profile schema, asked with questionary.

Every question comes from a field of `schema.Profile` — its description is the question, its `help` the explanation,
its type picks the prompt (select for enums, confirm for booleans, validated text for numbers) and its constraints
validate the answer. This module adds only what the schema cannot say: the order of sections, and which questions
are follow-ups that matter only after an earlier answer (`FOLLOW_UPS`, `GATES`).

Nothing is lost: each answer is written to the answers file (atomically) as soon as it is given, so Ctrl-C, a closed
terminal or a crash leaves every answer so far; `--resume` continues from that file.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from .errors import InputError, Interrupted, NoTerminal, did_you_mean
from .io import describe_validation_error, load_profile, read_text, write_atomic
from .schema import SCHEMA_VERSION, Eval, Priorities, Profile, Ranges

Answers = dict[str, Any]

# Interview sections, in order, and the profile sections each covers.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Project", ("project",)),
    ("Data", ("data",)),
    ("Quality", ("quality",)),
    ("Latency and deployment", ("latency",)),
    ("Usage", ("usage",)),
    ("Team and budget", ("team", "budget")),
    ("Preferences", ("preferences",)),
)

# Follow-up questions: asked only when the condition on the answers so far holds; otherwise the field gets the
# value given here (and is never asked).
FOLLOW_UPS: dict[str, tuple[Callable[[Answers], bool], Any]] = {
    "data.freshness": (lambda a: _get(a, "data.knowledge_base_tokens", 0) > 0, "static"),
    "latency.offline": (lambda a: _get(a, "latency.deployment", "cloud") != "cloud", False),
}

# Gates: one checkbox ("which of these do you have?") before several count questions; an unticked item sets its
# field to 0 without asking.
GATES: dict[str, tuple[str, dict[str, str]]] = {
    "data.labeled_examples": ("Which of these do you have? (space to tick, enter to confirm)", {
        "data.labeled_examples": "labeled examples (inputs with the ideal output)",
        "data.unlabeled_tokens": "a large body of unlabeled text in your domain",
        "data.knowledge_base_tokens": "documents the answers must draw on (manuals, help centre, policies)",
    }),
}

# Fields the interview does not ask: the list of evals has its own questions, `assumptions` are expert overrides
# for the JSON file, and deciders are optional metadata for the memo (asked as one comma-separated line).
SKIPPED = {"quality.evals", "preferences.priorities"}
# Asked with no default offered: an answer left at a default here would silently shape every cost.
ALWAYS_ASK = {"usage.monthly_growth"}
UNKNOWN = "don't know"
# An amount of text as people know it: pages and words, converted to tokens (the unit the cost model uses).
TOKENS_PER_PAGE = 500  # a page of ~375 words at OpenAI's rule of thumb of ~0.75 words per token
WORDS_PER_TOKEN = 0.75
EVAL_APPROACHES = {"prompt": "a prompted model", "rag": "retrieval (RAG)", "fine_tune": "a fine-tuned model"}

_SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9, "bn": 1e9, "t": 1e12}


def parse_number(text: str) -> float:
    """'20k', '1.5M', '2,000', '2e12', '10%' → a number; anything else raises ValueError with a reason."""
    raw = text.strip().lower().replace(",", "").replace("_", "").replace(" ", "").lstrip("$")
    if not raw:
        raise ValueError("enter a number")
    scale = 1.0
    if raw.endswith("%"):
        raw, scale = raw[:-1], 0.01
    else:
        for suffix in ("bn", "k", "m", "b", "t"):
            if raw.endswith(suffix) and raw[:-len(suffix)]:
                raw, scale = raw[:-len(suffix)], _SUFFIX[suffix]
                break
    try:
        value = float(raw) * scale
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a number (try 2000, 2,000, 20k, 1.5M or 10%)") from None
    if not math.isfinite(value):
        raise ValueError("enter a finite number")
    return float(f"{value:.12g}") + 0.0  # 1.1 * 1e6 == 1100000.0000000002 otherwise; + 0.0: no "-0" answers


# -- questions from the schema ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Question:
    path: str
    text: str
    help: str
    kind: Literal["select", "confirm", "number", "integer", "text", "list"]
    choices: tuple[str, ...]
    default: Any  # Ellipsis when the field has no default
    optional: bool
    adapter: TypeAdapter[Any]
    labels: dict[str, str]
    unit: str | None

    def check(self, value: Any) -> Any:
        """The value as the profile will hold it, or ValueError naming the constraint it breaks."""
        try:
            return self.adapter.validate_python(value)
        except ValidationError as e:
            raise ValueError(e.errors(include_url=False)[0]["msg"].replace("Input should be", "must be")) from None


def _kind(annotation: Any) -> tuple[str, tuple[str, ...], bool]:
    args = [a for a in get_args(annotation) if a is not type(None)]
    optional = type(None) in get_args(annotation)
    base = args[0] if optional else annotation
    if get_origin(base) is Literal:
        return "select", tuple(get_args(base)), optional
    if get_origin(base) is list:
        return "list", (), optional
    inner = get_args(base)[0] if get_args(base) else base  # Annotated[int, ...] → int
    if base is bool:
        return "confirm", (), optional
    if inner is int or base is int:
        return "integer", (), optional
    if base is float:
        return "number", (), optional
    return "text", (), optional


def _question(path: str, info: Any) -> Question:
    """A question from one schema field: its description, help, type, default and constraints."""
    kind, choices, optional = _kind(info.annotation)
    base = next(a for a in get_args(info.annotation) if a is not type(None)) if optional else info.annotation
    default = ... if info.is_required() else info.get_default(call_default_factory=True)
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    annotated: Any = Annotated[(base, *info.metadata)] if info.metadata else base
    adapter: TypeAdapter[Any] = TypeAdapter(annotated, config=ConfigDict(strict=True, allow_inf_nan=False))
    return Question(path, info.description or path, str(extra.get("help", "")), kind,  # type: ignore[arg-type]
                    choices, default, optional, adapter, dict(extra.get("labels", {})),
                    extra.get("unit"))


def _fields(prefix: str, model: type[BaseModel]) -> list[Question]:
    """The questions of a section, a nested section's (e.g. `preferences.priorities`) after its parent's."""
    out = []
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}"
        if path in SKIPPED:
            continue
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            out += _fields(path, info.annotation)
        else:
            out.append(_question(path, info))
    return out


@cache
def questions() -> tuple[Question, ...]:
    """Every question of the interview, in order, read from the profile schema."""
    out = []
    for _, sections in SECTIONS:
        for section in sections:
            model: type[BaseModel] = Profile.model_fields[section].annotation  # type: ignore[assignment]
            out += _fields(section, model)
    return tuple(out)


def _parent(answers: Answers, path: str, create: bool = False) -> tuple[dict[str, Any] | None, str]:
    """The dict holding `path`'s last part, and that part (None when a level is missing and not created)."""
    *sections, name = path.split(".")
    node: Any = answers
    for section in sections:
        if not isinstance(node.get(section), dict):
            if not create:
                return None, name
            node[section] = {}
        node = node[section]
    return node, name


def _get(answers: Answers, path: str, default: Any = None) -> Any:
    node, name = _parent(answers, path)
    return default if node is None else node.get(name, default)


def _has(answers: Answers, path: str) -> bool:
    node, name = _parent(answers, path)
    return node is not None and name in node


def _set(answers: Answers, path: str, value: Any) -> None:
    node, name = _parent(answers, path, create=True)
    assert node is not None
    node[name] = value


# -- the answers file ---------------------------------------------------------------------------------------------

_RANGES = TypeAdapter(Ranges)
_NOT_ASKED: dict[str, TypeAdapter[Any]] = {"quality.evals": TypeAdapter(list[Eval]),
                                          "preferences.priorities": TypeAdapter(Priorities)}


def load_answers(path: str | Path) -> Answers:
    """A partial profile (the answers file): each value present is checked against its field now, so a bad
    pre-filled answer is one clear error naming the field, not a surprise at the end."""
    text, name = read_text(path, "answers")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{name}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except (RecursionError, ValueError) as e:  # nested too deep, or a number of thousands of digits
        raise InputError(f"{name}: not a usable answers file: {str(e)[:120]}") from None
    if not isinstance(data, dict):
        raise InputError(f"{name}: an answers file is a JSON object like a profile, not {type(data).__name__}")
    by_path = {q.path: q for q in questions()}
    answers: Answers = {"schema_version": SCHEMA_VERSION}
    for section, fields in data.items():
        if section == "schema_version":
            if fields != SCHEMA_VERSION:
                raise InputError(f"{name}: schema_version must be {SCHEMA_VERSION}, not {fields!r}")
            continue
        if section not in Profile.model_fields:
            raise InputError(f"{name}: {section}: unknown section{did_you_mean(section, Profile.model_fields)}")
        if not isinstance(fields, dict):
            raise InputError(f"{name}: {section}: must be an object of answers")
        if section == "uncertainty":  # ranges are not asked, only checked and carried through to the profile
            try:
                _RANGES.validate_python(fields)
            except ValidationError as e:
                problem = describe_validation_error(e).removeprefix("(top level): ")
                raise InputError(f"{name}: uncertainty: {problem}") from None
            answers[section] = fields
            continue
        for field_name, value in fields.items():
            path = f"{section}.{field_name}"
            q = by_path.get(path)
            if q is None and path not in SKIPPED and section != "assumptions":
                known = [p.split(".")[1] for p in by_path if p.startswith(section + ".")]
                raise InputError(f"{name}: {path}: unknown field{did_you_mean(field_name, known)}")
            if q is not None and not (value is None and q.optional):
                try:
                    value = q.check(value)
                except ValueError as e:
                    raise InputError(f"{name}: {path}: {e} (got {value!r})") from None
            elif path in _NOT_ASKED:  # not asked one by one, but checked now all the same
                try:
                    _NOT_ASKED[path].validate_python(value)
                except ValidationError as e:
                    raise InputError(f"{name}: {path}: {describe_validation_error(e)}") from None
            answers.setdefault(section, {})[field_name] = value
    return answers


# -- asking ------------------------------------------------------------------------------------------------------

class Interview:
    """One interview: answers so far, where they are saved, and the terminal (or a test's pipe) to ask on."""

    def __init__(self, out: Path, answers: Answers | None = None, *, input: Any = None, output: Any = None,
                 use_defaults: bool = False):
        self.out = out
        self.answers: Answers = answers or {"schema_version": SCHEMA_VERSION}
        self.answers.setdefault("schema_version", SCHEMA_VERSION)
        self.input, self.output = input, output
        self.use_defaults = use_defaults
        self.missing: list[str] = []
        self.unticked: set[str] = set()  # counts a gate said the user does not have: 0, never asked

    # - saving -
    def save(self) -> None:
        write_atomic(self.out, json.dumps(self.answers, indent=2, ensure_ascii=False) + "\n")

    def answer(self, path: str, value: Any) -> None:
        _set(self.answers, path, value)
        self.save()

    # - prompting -
    def _say(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def _ask(self, question: Any) -> Any:
        try:
            return question.unsafe_ask()
        except KeyboardInterrupt:
            raise Interrupted(
                f"interrupted; {self._count()} answers saved to {self.out}. Continue with: "
                f"advisor interview --resume --out {self.out}") from None

    def _count(self) -> int:
        return sum(len(v) for k, v in self.answers.items() if isinstance(v, dict))

    def _kw(self) -> dict[str, Any]:
        return {"input": self.input, "output": self.output}

    def ask(self, q: Question, *, again: bool = False) -> None:
        """Ask `q` unless it is answered already (or a follow-up that does not apply); save the answer."""
        if (_has(self.answers, q.path) and not again) or q.path in self.unticked:
            return
        follow = FOLLOW_UPS.get(q.path)
        if follow and not follow[0](self.answers):
            self.answer(q.path, follow[1])
            return
        if self.use_defaults:
            if q.default is ...:
                self.missing.append(q.path)
            elif q.default is not None:
                self.answer(q.path, q.default)
            return
        current = _get(self.answers, q.path, None if q.default is ... else q.default)
        value = self._prompt(q, current)
        # A skipped optional question is saved as null, so --resume does not ask it again.
        self.answer(q.path, value)

    def _prompt(self, q: Question, current: Any) -> Any:
        import questionary

        self._say(f"  {q.help}" if q.help else "")
        if q.kind == "select" or (q.kind == "confirm" and q.optional):
            values: list[Any] = list(q.choices) if q.kind == "select" else [True, False]
            names = {True: "yes", False: "no"}
            choices = [questionary.Choice(q.labels.get(v, names.get(v, str(v).replace("_", " "))), value=v)
                       for v in values]
            if q.optional:  # unknown is a value (DESIGN §4): the decision says whether it matters
                choices.append(questionary.Choice(UNKNOWN, value=UNKNOWN))  # (questionary reads value=None as unset)
            default = next((c for c in choices if c.value == current), None)
            picked = self._ask(questionary.select(q.text, choices=choices, default=default, **self._kw()))
            return None if picked == UNKNOWN else picked
        if q.kind == "confirm":  # answered with y or n, then Enter (a habitual Enter never answers the next one)
            return self._ask(questionary.confirm(q.text, default=bool(current), auto_enter=False, **self._kw()))
        if q.kind == "list":
            text = self._ask(questionary.text(q.text + " (comma-separated, optional)",
                                              default=", ".join(current or []), **self._kw()))
            return [x.strip() for x in text.split(",") if x.strip()]
        if q.kind == "text":
            validate = _text_validator(q)
            text = self._ask(questionary.text(q.text, default="" if current is None else str(current),
                                              validate=validate, **self._kw()))
            return text.strip() or None
        if q.unit == "tokens":
            return self._amount_of_text(q, current)
        number = _number_validator(q)
        hint = f" (optional: leave empty if you {UNKNOWN})" if q.optional else ""
        shown = "" if current is None or (q.path in ALWAYS_ASK and not _has(self.answers, q.path)) else _show(current)
        text = self._ask(questionary.text(q.text + hint, default=shown, validate=number, **self._kw()))
        return None if not text.strip() else q.check(_as_number(q, parse_number(text)))

    def _amount_of_text(self, q: Question, current: Any) -> Any:
        """An amount of text in pages, words, documents or tokens, converted to tokens and the conversion shown."""
        import questionary

        hint = f" (e.g. 2,000 pages, 50k documents, 3M tokens{'; empty if you ' + UNKNOWN if q.optional else ''})"
        text = self._ask(questionary.text(q.text + hint, default="" if current is None else f"{current:,} tokens",
                                          validate=_amount_validator(q), **self._kw()))
        if not text.strip():
            return None
        count, unit = parse_amount(text)
        if unit == "documents":
            pages = self._ask(questionary.text(
                "About how many pages is a typical document? (a contract is often 5–20, an email 1)",
                validate=_positive_number, **self._kw()))
            count, unit = count * parse_number(pages), "pages"
        tokens = q.check(round(count * {"pages": TOKENS_PER_PAGE, "words": 1 / WORDS_PER_TOKEN, "tokens": 1}[unit]))
        if unit != "tokens":
            self._say(f"  ≈ {tokens:,} tokens ({count:,.0f} {unit}; a page ≈ {TOKENS_PER_PAGE} tokens, "
                      f"a token ≈ {WORDS_PER_TOKEN} words)")
        return tokens

    def ask_gate(self, path: str, again: bool = False) -> None:
        """The 'which of these do you have?' checkbox before a group of counts; unticked ones are set to 0."""
        message, items = GATES[path]
        # Answering the gate sets every unticked item to 0 at once, so if any item is saved, the gate was answered
        # and the missing ones were ticked: on resume, go straight to them.
        if (any(_has(self.answers, p) for p in items) and not again) or self.use_defaults:
            return
        import questionary

        choices = [questionary.Choice(label, value=p, checked=_get(self.answers, p, 0) > 0)
                   for p, label in items.items()]
        ticked = self._ask(questionary.checkbox(message, choices=choices, **self._kw()))
        self.unticked = {p for p in items if p not in ticked}
        for p in self.unticked:
            self.answer(p, 0)

    def ask_evals(self, again: bool = False) -> None:
        """Measured results: only for approaches the user has measured (a checkbox), then a score for each."""
        if _has(self.answers, "quality.evals") and not again:
            return
        if self.use_defaults:
            self.answer("quality.evals", [])
            return
        import questionary

        before = {e["approach"]: e["score"] for e in _get(self.answers, "quality.evals", []) or []}
        before_models = {e["approach"]: e.get("model") for e in _get(self.answers, "quality.evals", []) or []}
        self._say("  Scores from your own eval set, e.g. 0.82 or 82%. Leave all unticked if you have not measured "
                  "yet.")
        picked = self._ask(questionary.checkbox(
            "Which approaches have you measured on your own eval set?",
            choices=[questionary.Choice(label, value=k, checked=k in before) for k, label in EVAL_APPROACHES.items()],
            **self._kw()))
        evals = []
        for approach in picked:
            text = self._ask(questionary.text(f"Score of {EVAL_APPROACHES[approach]} (0–1)",
                                              default=_show(before[approach]) if approach in before else "",
                                              validate=_number_validator(EVAL_SCORE), **self._kw()))
            model = self._ask(questionary.text(
                "Which model was it measured on? (optional, e.g. gpt-4.1 or llama-3.1-8b)",
                default=before_models.get(approach) or "", **self._kw())).strip()
            evals.append({"approach": approach, "score": EVAL_SCORE.check(parse_number(text))}
                         | ({"model": model} if model else {}))
        self.answer("quality.evals", evals)

    # - the whole interview -
    def run_section(self, title: str, sections: tuple[str, ...], again: bool = False) -> None:
        if not self.use_defaults:
            self._say(f"\n== {title} ==")
        for q in questions():
            if q.path.split(".")[0] not in sections:
                continue
            if q.path in GATES:
                self.ask_gate(q.path, again=again)
            self.ask(q, again=again)
        if "quality" in sections:
            self.ask_evals(again=again)

    def run(self) -> Profile:
        for title, sections in SECTIONS:
            self.run_section(title, sections)
        if self.missing:
            raise InputError(f"--defaults: no default for {', '.join(self.missing)}; answer them in --answers "
                             f"or run without --defaults (answers so far saved to {self.out})")
        if not self.use_defaults:
            self.review()
        return self.validate()

    def review(self) -> None:
        import questionary

        while True:
            self._say("\n" + summary(self.answers))
            choices = ["Looks right: finish"] + [f"Change {title.lower()}" for title, _ in SECTIONS]
            picked = self._ask(questionary.select("Review your answers", choices=choices, **self._kw()))
            if picked == choices[0]:
                return
            title, sections = SECTIONS[choices.index(picked) - 1]
            self.run_section(title, sections, again=True)

    def validate(self) -> Profile:
        profile = load_profile(self.answers)
        self.save()
        return profile


EVAL_SCORE = _question("quality.evals.score", Eval.model_fields["score"])


def _as_number(q: Question, value: float) -> float | int:
    if q.kind == "integer":
        if not value.is_integer():
            raise ValueError("must be a whole number")
        return int(value)
    return value


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _number_validator(q: Question) -> Callable[[str], bool | str]:
    def validate(text: str) -> bool | str:
        if not text.strip():
            return True if q.optional else "an answer is needed"
        value = math.nan
        try:
            value = parse_number(text)
            q.check(_as_number(q, value))
        except ValueError as e:
            if q.path.endswith("score") and "%" not in text and 1 < value <= 100:
                return f"a score is between 0 and 1: for {value:g} %, type {value:g}% or {value / 100:g}"
            return str(e)
        return True
    return validate


def _positive_number(text: str) -> bool | str:
    try:
        return True if parse_number(text) > 0 else "must be more than 0"
    except ValueError as e:
        return str(e)


_UNITS = {"page": "pages", "pages": "pages", "pp": "pages", "word": "words", "words": "words", "token": "tokens",
          "tokens": "tokens", "tok": "tokens", "doc": "documents", "docs": "documents", "document": "documents",
          "documents": "documents", "file": "documents", "files": "documents"}


def parse_amount(text: str) -> tuple[float, str]:
    """'2,000 pages', '50k documents', '3M words', '1.5B tokens' or a bare number (tokens) → (count, unit)."""
    raw = text.strip().lower()
    parts = raw.rsplit(None, 1)
    if len(parts) == 2 and parts[1] in _UNITS:
        return parse_number(parts[0]), _UNITS[parts[1]]
    for word, unit in sorted(_UNITS.items(), key=lambda kv: -len(kv[0])):  # '2000pages'
        if raw.endswith(word) and raw[:-len(word)].strip():
            return parse_number(raw[:-len(word)]), unit
    return parse_number(raw), "tokens"


def _amount_validator(q: Question) -> Callable[[str], bool | str]:
    def validate(text: str) -> bool | str:
        if not text.strip():
            return True if q.optional else "an answer is needed"
        try:
            count, unit = parse_amount(text)
            if count < 0:
                return "must be 0 or more"
            if unit == "tokens":
                q.check(_as_number(q, count))
        except ValueError as e:
            return f"{e} (e.g. 2,000 pages, 50k documents, 3M words or 1M tokens)"
        return True
    return validate


def _text_validator(q: Question) -> Callable[[str], bool | str]:
    def validate(text: str) -> bool | str:
        if not text.strip():
            return True if q.optional else "an answer is needed"
        try:
            q.check(text.strip())
        except ValueError as e:
            return str(e)
        return True
    return validate


def summary(answers: Answers) -> str:
    """The answers by section, as the review shows them."""
    by_path = {q.path: q for q in questions()}
    lines = []
    for title, sections in SECTIONS:
        lines.append(f"{title}:")
        for section in sections:
            for name, value in answers.get(section, {}).items():
                q = by_path.get(f"{section}.{name}")
                label = q.text if q else Profile.model_fields[section].annotation.model_fields[name].description  # type: ignore[union-attr]
                if name == "evals":
                    value = ", ".join(f"{e['approach']} {e['score']:g}" for e in value) or "none measured"
                shown = ", ".join(value) or "—" if isinstance(value, list) else _show(value)
                lines.append(f"  {label}: {shown}")
    return "\n".join(lines)


def check_terminal(stdin: Any = None) -> None:
    stdin = stdin or sys.stdin
    if stdin is None or not stdin.isatty():  # None: started with standard input closed
        raise NoTerminal("advisor interview needs a terminal to ask its questions. For scripts, write the profile "
                         "as JSON (see `advisor schema` and `advisor example`) and run `advisor decide PROFILE`, or "
                         "use `advisor interview --defaults --answers FILE`.")



def conduct(out: str | Path, *, resume: bool = False, answers: str | Path | None = None, use_defaults: bool = False,
            input: Any = None, output: Any = None) -> Profile:
    """Run the interview and return the validated profile, saved at `out`. `input`/`output` are prompt_toolkit
    devices (tests pass a pipe); by default the prompts use the terminal, drawn on stderr."""
    out = Path(out)
    if resume and answers is not None:
        raise InputError("--resume continues --out; it cannot be combined with --answers")
    if resume:
        if not out.exists():
            raise InputError(f"{out}: nothing to resume (no answers file); start without --resume")
        start: Answers | None = load_answers(out)
    else:
        if out.exists():
            raise InputError(f"{out} already exists: continue it with --resume, or choose another --out "
                             f"(nothing was overwritten)")
        start = load_answers(answers) if answers is not None else None
    if input is None and not use_defaults:
        check_terminal()
    if output is None and not use_defaults:
        from prompt_toolkit.output import create_output

        output = create_output(stdout=sys.stderr)
    interview = Interview(out, start, input=input, output=output, use_defaults=use_defaults)
    interview.save()
    return interview.run()
