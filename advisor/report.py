"""Markdown rendering with Jinja2: templates are data in `templates/`; this module only supplies formatting."""

from __future__ import annotations

import contextlib
import math
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .engine import COST_TERM
from .errors import TemplateError
from .fmt import article, ms, num, pct, usd
from .resources import shipped
from .schema import choice_label

if TYPE_CHECKING:
    from .evaluation import Evaluation


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~&])")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


def _one_line(value: Any) -> str:
    """One line with no control characters (terminal escapes, bidi overrides): safe for a terminal and a file."""
    return " ".join(_CONTROL.sub(" ", str(value)).split())


def md(value: Any) -> str:
    """Text from a profile, made inert in Markdown: one line, every markup character backslash-escaped (CommonMark),
    so no markup, HTML, entity or table break survives and `Q&A` still reads `Q&A`."""
    return _MD_SPECIAL.sub(r"\\\1", _one_line(value))


_INERT = re.compile(r"([\\`<>\[\]|&])")


def inert(value: Any) -> str:
    """Editable text we ship or a rule pack brings (a rule's why, a catalog source, a GPU name): one line, with
    links, HTML, entities, code and table breaks escaped, while ordinary punctuation stays readable."""
    return _INERT.sub(r"\\\1", _one_line(value))


def applies(a: Any) -> str:
    """A rule's selector in words: 'fine-tune, pretrain · with RAG · self-host'."""
    parts = [", ".join(a.adaptation) if a.adaptation else "",
             "" if a.rag is None else ("with RAG" if a.rag else "without RAG"),
             ", ".join(a.serving) if a.serving else ""]
    return " · ".join(p for p in parts if p) or "all"


def value(v: Any) -> str:
    """Any scalar from a profile or the catalog, as a person reads it."""
    if isinstance(v, bool) or v is None:
        return {True: "yes", False: "no", None: "unset"}[v]
    if isinstance(v, (int, float)):
        return f"{v:g}" if abs(v) < 1e6 else num(v)
    return str(v)


def change_value(v: Any, input: str, profile: Any) -> str:
    """A flip-point value in the unit of its input (see sensitivity.KNOBS)."""
    if input == "budget":
        if profile is None:
            return f"×{v:.2g} budget"
        b = profile.budget
        return f"{usd(b.monthly_usd * v)}/month, {usd(b.upfront_usd * v)} upfront" + (f" (×{v:.2g})" if v != 1 else "")
    if input == "usage.monthly_growth":
        return f"{v * 100:+.1f} %/month".replace("-", "−")
    if input == "latency.p95_ms":
        return ms(v)
    if input == "assumptions.gpu_hourly_usd":
        return f"{usd(v)}/GPU-hour"
    if input == "assumptions.engineer_monthly_usd":
        return f"{usd(v)}/month"
    if input == "assumptions.api_price_factor":
        return f"×{v:.2g} list price"
    if input == "assumptions.mfu":
        return f"{v * 100:.2g} % MFU"
    if input == "data.residency":
        return {"none": "no restriction", "region": "in-region provider", "on_prem": "own infrastructure",
                "air_gapped": "air-gapped"}[v]
    return num(v)


def values(d: dict[str, Any]) -> str:
    """Clause values for a trace table: `field` = value."""
    return "; ".join(f"`{k}` = {inert(value(v))}" for k, v in d.items()) or "—"


MAX_RENDER_SECONDS = 5.0  # the shipped memo renders in ~20 ms
MAX_OUTPUT_CHARS = 10_000_000  # the shipped memo is ~30 kB
MAX_EXPONENT = 1000
MAX_RENDER_MEMORY = 1024 ** 3  # bytes a render may add to the process; the shipped memo needs a few MB
# `cell` is `inert` under the name table cells use (a pipe cannot break the table).
FILTERS = dict(usd=usd, num=num, pct=pct, ms=ms, md=md, inert=inert, cell=inert, applies=applies, value=value,
               values=values, change_value=change_value)


class Templates:
    """One sandboxed environment for shipped and user templates: a template can format the data it is given and
    include or extend the shipped templates, but cannot reach Python internals, call unsafe methods, or read files —
    and it runs under a time limit and a size limit. Every call, attribute or item lookup and `*`/`**` checks the
    render deadline — a template's loops all iterate over results of such operations, so a loop that runs forever
    meets one — and refuses values that would outgrow the output limit (string repetition, doubling a string in a
    loop, huge powers)."""

    def __init__(self) -> None:
        from jinja2 import FileSystemLoader, StrictUndefined
        from jinja2.exceptions import SecurityError
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        self.deadline = math.inf
        owner = self

        def sized(value: Any) -> Any:
            if isinstance(value, (str, list, tuple)) and len(value) > MAX_OUTPUT_CHARS:
                raise SecurityError(f"a value grew beyond {MAX_OUTPUT_CHARS:,} characters")
            return value

        def tick() -> None:
            if time.monotonic() > owner.deadline:
                raise SecurityError(f"rendering took longer than {MAX_RENDER_SECONDS:g} s")

        class Sandbox(ImmutableSandboxedEnvironment):
            intercepted_binops = frozenset({"*", "**", "%", "+"})

            def is_safe_attribute(self, obj, attr, value):  # type: ignore[no-untyped-def]
                # pydantic's model_* methods (model_dump_json(indent=10**6), model_copy, …) are not for templates
                return not attr.startswith("model_") and super().is_safe_attribute(obj, attr, value)

            def call(self, __context, __obj, *args, **kwargs):  # type: ignore[no-untyped-def]
                tick()
                return sized(super().call(__context, __obj, *args, **kwargs))

            def getattr(self, obj, attribute):  # type: ignore[no-untyped-def]
                tick()
                return sized(super().getattr(obj, attribute))

            def getitem(self, obj, argument):  # type: ignore[no-untyped-def]
                tick()
                return sized(super().getitem(obj, argument))

            def call_binop(self, context, operator, left, right):  # type: ignore[no-untyped-def]
                tick()
                if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
                    raise SecurityError(f"exponent {right} is too large")
                if operator == "*":
                    for seq, n in ((left, right), (right, left)):
                        if (isinstance(seq, (str, list, tuple)) and isinstance(n, int)
                                and len(seq) * n > MAX_OUTPUT_CHARS):
                            raise SecurityError(f"repeating a value {n} times would exceed {MAX_OUTPUT_CHARS:,} "
                                                f"characters")
                return sized(super().call_binop(context, operator, left, right))

        self.env = Sandbox(loader=FileSystemLoader(str(shipped("templates"))), undefined=StrictUndefined,
                           trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)
        self.env.filters.update(FILTERS)

    def render(self, template: str, *, source: str | None = None, **context: Any) -> str:
        """Render a shipped template by name, or `source` (a user's template text, named `template` in errors)."""
        self.deadline = time.monotonic() + MAX_RENDER_SECONDS
        try:
            with _watchdog(MAX_RENDER_SECONDS), _memory_cap(MAX_RENDER_MEMORY):
                return self._render(template, source, context)
        except _Overtime:
            raise TemplateError(f"{template}: refused, rendering took longer than {MAX_RENDER_SECONDS:g} s") from None
        finally:
            self.deadline = math.inf

    def _render(self, template: str, source: str | None, context: dict[str, Any]) -> str:
        import jinja2
        from jinja2.exceptions import SecurityError

        try:
            compiled = self.env.get_template(template) if source is None else self.env.from_string(source)
            out, size = [], 0
            for chunk in compiled.generate(**context):
                size += len(chunk)
                if size > MAX_OUTPUT_CHARS:
                    raise TemplateError(f"{template}: refused, output larger than {MAX_OUTPUT_CHARS:,} characters")
                out.append(chunk)
            return "".join(out)
        except RecursionError:
            raise TemplateError(f"{template}: refused, recursion too deep (a macro calling itself?)") from None
        except SecurityError as e:
            raise TemplateError(f"{template}: refused, unsafe template: {e}") from None
        except jinja2.TemplateSyntaxError as e:
            raise TemplateError(f"{template}: line {e.lineno}: {e.message}") from None
        except jinja2.TemplateNotFound as e:
            raise TemplateError(f"{template}: template {e.name!r} not found (include, extends and import reach only "
                                f"the shipped templates)") from None
        except jinja2.UndefinedError as e:
            raise TemplateError(f"{template}: {e.message} (see the memo variables in templates/decision.md.j2)"
                                ) from None
        except jinja2.TemplateError as e:
            raise TemplateError(f"{template}: {e}") from None
        except MemoryError:
            raise TemplateError(f"{template}: refused, it needed more memory than a memo can") from None
        except (OverflowError, ValueError, TypeError, ArithmeticError, LookupError) as e:
            # an error inside the sandbox (a range too big, a bad format string, a division by zero): the template's
            raise TemplateError(f"{template}: {type(e).__name__}: {str(e)[:300]}") from None


class _Overtime(BaseException):
    """Raised into a render that outlived its time limit (a BaseException, so a template cannot catch it)."""


@contextlib.contextmanager
def _watchdog(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` of wall time, whatever it is doing in Python (a loop, a long filter):
    a real-time timer signal, where this is the main thread of a process that allows one; elsewhere the sandbox's
    own checks on every call, lookup and operator remain."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def overtime(signum: int, frame: Any) -> None:
        raise _Overtime

    previous = signal.signal(signal.SIGALRM, overtime)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _memory_cap(extra: int) -> Iterator[None]:
    """Let the block allocate at most `extra` bytes more address space than the process holds now, so a filter or
    method asked for a gigantic string (`center(4 * 10**9)`) fails at once with MemoryError instead of filling the
    machine's memory in C code no time limit can interrupt. The limit is the process's, so it is set only from the
    main thread (as the watchdog's timer), where no other thread of a host application is allocating; elsewhere, and
    where address-space limits are unavailable (not Linux), the output-size checks remain."""
    try:
        if threading.current_thread() is not threading.main_thread():
            raise OSError
        import resource

        pages = int(Path("/proc/self/statm").read_text().split()[0])
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = pages * resource.getpagesize() + extra
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        if soft != resource.RLIM_INFINITY and soft <= cap:
            raise OSError  # already limited more tightly than this
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, OSError, ValueError, IndexError):
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


# -- the decision memo ------------------------------------------------------------------------------------------------

class Point(NamedTuple):
    """One line of 'why not': how many points a difference cost the runner-up, and why."""

    points: float
    text: str


def contrast(winner: Any, other: Any, months: int) -> list[Point]:
    """Where `other` lost points against `winner`, largest first: rules only one of them fired, and cost."""
    mine = {r.rule: r for r in winner.reasons if r.rule != COST_TERM}  # cost: compared once, below
    theirs = {r.rule: r for r in other.reasons if r.rule != COST_TERM}
    out = [Point(r.points, r.why if r.points < 0 else f"in its favour: {r.why}")
           for k, r in theirs.items() if k not in mine]
    out += [Point(-r.points, f"only `{winner.id}` earns this — {r.why}") for k, r in mine.items() if k not in theirs]
    delta = other.cost_points - winner.cost_points
    if abs(delta) >= 0.05:
        ratio = other.cost.tco_usd / winner.cost.tco_usd if winner.cost.tco_usd else math.inf
        text = (f"it costs {usd(other.cost.tco_usd)} over {months} months against {usd(winner.cost.tco_usd)}"
                + (f" ({ratio:.1f}× as much)" if math.isfinite(ratio) and ratio >= 1.05 else ""))
        out.append(Point(delta, text))
    return sorted(out, key=lambda p: (p.points, p.text))


class Chart(NamedTuple):
    """Cumulative cost of the top candidates: one whole-dollar value per month, and the rows of the table beside it."""

    ids: list[str]
    series: list[list[int]]
    rows: list[tuple[int, list[float]]]


def cumulative(candidate: Any) -> list[float]:
    """Upfront plus every month so far: the amount spent by the end of each month."""
    total, out = candidate.cost.upfront_usd, []
    for m in candidate.cost.monthly_usd:
        total += m
        out.append(total)
    return out


def chart(candidates: list[Any], months: int) -> Chart:
    sums = [cumulative(c) for c in candidates]
    step = max(1, months // 6)
    shown = sorted({1, *range(step, months + 1, step), months})
    return Chart(ids=[c.id for c in candidates], series=[[round(v) for v in s] for s in sums],
                 rows=[(m, [s[m - 1] for s in sums]) for m in shown])


class Requirement(NamedTuple):
    """One row of the memo's requirements table: what the profile asks, what the path gives, whether it is met."""

    name: str
    target: str
    path: str
    met: bool | None  # None: nothing to check


def hardware(r: Any, catalog: Any, months: int) -> str:
    """The concrete model and hardware of a ranked candidate, in words."""
    m, f = r.model, r.facts
    if m.kind == "api":
        return f"`{m.id}`{' fine-tuned' if r.adaptation == 'fine-tune' else ''} on the provider's API"
    size = f"{num(m.params)} parameters"
    if m.kind == "device":
        gb = m.params * {"bf16": 2, "fp16": 2, "fp8": 1, "int8": 1, "int4": 0.5}.get(m.precision or "", 2) / 1e9
        return (f"`{m.id}` ({size}, {m.precision}, {gb:.2g} GB) on {article(inert(catalog.devices[m.device].name))}"
                if m.device in catalog.devices else f"`{m.id}` ({size}) on the device")
    gpu = inert(catalog.gpus[m.gpu].name if m.gpu in catalog.gpus else m.gpu)
    text = (f"`{m.id}` ({size}) at {m.precision} on {m.gpus_per_replica} × {gpu} per replica, "
            f"{m.batch_per_replica} requests at a time")
    if f.replicas_first:
        text += (f"; {f.replicas_first} replica{'s' if f.replicas_first != 1 else ''} now"
                 + (f", {f.replicas_last} by month {months}" if f.replicas_last != f.replicas_first else ""))
    else:
        text += "; GPUs rented by the hour for the batch work"
    return text


def requirements(d: Any, top: Any) -> list[Requirement]:
    """The requirements the profile states, against the recommended path."""
    p, f, c = d.profile, top.facts, top.cost
    out = [Requirement("Quality", f"score ≥ {pct(p.quality.target_score)}" if p.quality.target_score is not None
                       else f"{p.quality.accuracy} accuracy", f"fit: {top.quality.fit}",
                       top.quality.fit in ("meets", "likely"))]
    applies = "first token" if top.latency.applies_to == "first_token" else "whole response"
    out.append(Requirement("Response time (p95)", f"≤ {ms(p.latency.p95_ms)} ({applies})",
                           ms(top.latency.p95_ms), top.latency.meets))
    vetoes = {v.rule for v in top.vetoes}
    where = {"cloud": "cloud", "edge": "a box on site", "on_device": "the user's device"}[p.latency.deployment]
    out.append(Requirement("Where it runs", where + (", offline" if p.latency.offline else ""),
                           {"api": "provider's cloud", "self-host": "own GPUs", "on-device": "on the device"}[
                               top.serving], not vetoes & {"cloud-deployment-no-device", "device-deployment-required",
                                                           "edge-deployment-no-api", "offline-needs-local-model"}))
    if p.data.residency != "none":
        out.append(Requirement("Data residency", choice_label("data.residency", p.data.residency),
                               {"api": "a provider's region", "self-host": "own infrastructure",
                                "on-device": "stays on the device"}[top.serving],
                               "residency-keeps-data-off-apis" not in vetoes))
    staff = " (with staff)" if p.budget.includes_staff else " (cash)"
    out.append(Requirement("Monthly budget" + staff, f"{usd(p.budget.monthly_usd)}/month",
                           f"{usd(c.spend_monthly_usd)}/month at most", c.spend_monthly_usd <= p.budget.monthly_usd))
    out.append(Requirement("One-time budget" + staff, usd(p.budget.upfront_usd), usd(c.spend_upfront_usd),
                           c.spend_upfront_usd <= p.budget.upfront_usd))
    if p.preferences.time_to_market_weeks is not None:
        weeks = p.preferences.time_to_market_weeks
        out.append(Requirement("Time to market", f"{weeks} weeks", f"about {f.build_weeks:.0f} weeks to build",
                               f.build_weeks <= weeks))
    return out


def residency_step(p: Any, top: Any) -> str | None:
    """How to meet the data-residency need on the recommended path, or None when there is none."""
    if p.data.residency == "none":
        return None
    if p.data.residency == "region":
        if top.serving == "api":
            return ("Meet the residency need with a regional endpoint under a data-processing agreement (Azure OpenAI "
                    "data zones, AWS Bedrock or Google Vertex AI in your region), with training on your data off.")
        return "Run the GPUs in a data centre or cloud region where the data may be kept."
    if top.serving == "self-host":
        return "Keep the model, the index and the logs on your own infrastructure; no call leaves it."
    if top.serving == "on-device":
        return "The model runs on the device; keep telemetry and updates from carrying user data off it."
    return None


def add_months(date: str, months: int) -> str:
    """`date` (YYYY-MM-DD) plus whole months, as YYYY-MM."""
    year, month = int(date[:4]), int(date[5:7]) - 1 + months
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


TRIGGER_MONTHS = 120  # how far the usage forecast is followed to date a trigger (beyond the cost horizon too)


class Trigger(NamedTuple):
    when: str  # a date (YYYY-MM) or a condition
    what: str


def triggers(ev: Any, top: Any, date: str) -> list[Trigger]:
    """Dated triggers to revisit the decision: when the usage forecast reaches a flip point, when a self-hosted
    twin breaks even, and regular price and model reviews."""
    p, d = ev.profile, ev.decision
    out = []
    volumes = [p.usage.requests_per_day * (1 + p.usage.monthly_growth) ** m for m in range(TRIGGER_MONTHS)]
    for c in ev.changes:
        if c.input != "usage.requests_per_day":
            continue
        hit = next((m for m, v in enumerate(volumes) if (v >= c.value if c.direction == "up" else v <= c.value)),
                   None)
        what = f"usage reaches {num(c.value)} requests/day: `{c.winner}` would then win"
        out.append(Trigger(add_months(date, hit) if hit is not None else "if it happens", what))
    twin = next((r for r in d.ranking if r.eligible and r.serving == "self-host" and r.facts.api_twin == top.id
                 and r.facts.break_even_month), None)
    if twin is not None:
        out.append(Trigger(add_months(date, twin.facts.break_even_month - 1),
                           f"`{twin.id}` costs less per month than `{top.id}` from "
                           f"{num(twin.facts.break_even_requests_per_day)} requests/day: compare them on real bills"))
    if p.preferences.time_to_market_weeks is not None:
        weeks = p.preferences.time_to_market_weeks
        out.append(Trigger(add_months(date, round(weeks / (365 / 12 / 7))), f"the {weeks}-week deadline: ship "
                           f"`{top.id}` or re-plan"))
    out.append(Trigger(add_months(date, 6), "re-run with current prices and models (hosted prices for a capability "
                                            "fall several-fold a year)"))
    return sorted(out, key=lambda t: t.when)


def memo(ev: Evaluation, templates: Templates, *, date: str | None = None,
         template: str | Path | None = None) -> str:
    """The Markdown decision memo of an evaluated profile: the decision and why, the requirements it meets, cost at a
    glance, the runner-up, what would change it, unknowns, risks and a dated plan; the appendix has every option,
    assumption and rule. `template`: a user's own template's path, rendered sandboxed."""
    source = None
    if template is not None:
        from .io import read_text

        source, template = read_text(template, "template")
    decision = ev.decision
    ranking = decision.ranking
    p = decision.profile
    top = ranking[0]
    eligible = [r for r in ranking if r.eligible]
    months = p.preferences.horizon_months
    date = date or _today()
    catalog = ev.advisor.catalog
    runner = eligible[1] if top.eligible and len(eligible) > 1 else None
    vetoes: dict[str, tuple[str, list[str]]] = {}
    for r in ranking:
        for v in r.vetoes:
            vetoes.setdefault(v.rule, (v.why, []))[1].append(r.id)
    unknowns = [w for w in decision.warnings if " is unknown (" in w]
    context = dict(
        d=decision, p=p, top=top, eligible=eligible, runner=runner, vetoes=vetoes, months=months, date=date,
        contrast=contrast(top, runner, months) if runner is not None else [],
        chart=chart((eligible or ranking)[:3], months), changes=ev.changes, robustness=ev.robustness,
        hardware=lambda r: hardware(r, catalog, months), requirements=requirements(decision, top),
        residency=residency_step(p, top), triggers=triggers(ev, top, date), unknowns=unknowns,
        other_warnings=[w for w in decision.warnings if w not in unknowns],
        use_case=article(choice_label("project.use_case", p.project.use_case)),
    )
    return templates.render(template if template is not None else "decision.md.j2", source=source, **context)


def _today() -> str:
    import datetime

    return datetime.date.today().isoformat()
