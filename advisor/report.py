"""Markdown rendering with Jinja2: templates are data in `templates/`; this module only supplies formatting."""

from __future__ import annotations

import math
import re
import time
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from .errors import TemplateError
from .resources import shipped


def usd(value: float | None) -> str:
    """Money as people read it: $1.2M, $18,400, $950, $0.0031."""
    if value is None:
        return "n/a"
    if not math.isfinite(value):
        raise TemplateError(f"cannot format non-finite amount {value!r}")
    sign, v = ("-" if value < 0 else ""), abs(value)
    if v >= 1e15:
        return f"{sign}${v:.2e}"
    if v >= 1e12:
        return f"{sign}${v / 1e12:.3g}T"
    if v >= 1e9:
        return f"{sign}${v / 1e9:.3g}B"
    if v >= 1e6:
        return f"{sign}${v / 1e6:.3g}M"
    if v >= 1000:
        return f"{sign}${float(f'{v:.3g}'):,.0f}"
    if v >= 100 or v == 0:
        return f"{sign}${v:,.0f}"
    if v >= 1:
        return f"{sign}${v:,.2f}"
    return f"{sign}${float(f'{v:.2g}'):g}" if v >= 1e-4 else f"{sign}${v:.1e}"


def num(value: float | None) -> str:
    """Volumes humanised: 950, 20k, 1.5M, 2T."""
    if value is None:
        return "n/a"
    v = abs(value)
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}" if v < 100 else f"{value:,.0f}"


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f} %"


def ms(value: float) -> str:
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md(value: Any) -> str:
    """Text from a profile, made inert in Markdown: one line, no markup, no HTML, no table breaks."""
    text = " ".join(str(value).split())
    return _MD_SPECIAL.sub(r"\\\1", text.replace("&", "&amp;"))


def cell(value: Any) -> str:
    """Our own text (rule `why`, sources) inside a table cell: one line, pipes escaped."""
    return " ".join(str(value).split()).replace("|", "\\|")


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
    return "; ".join(f"`{k}` = {cell(value(v))}" for k, v in d.items()) or "—"


MAX_RENDER_SECONDS = 5.0  # the shipped memo renders in ~20 ms
MAX_OUTPUT_CHARS = 10_000_000  # the shipped memo is ~30 kB
MAX_EXPONENT = 1000
_deadline: ContextVar[float] = ContextVar("template_deadline", default=math.inf)


@cache
def _environment():
    """One sandboxed environment for shipped and user templates: a template can format the data it is given and
    include or extend the shipped templates, but cannot reach Python internals, call unsafe methods, or read files —
    and it runs under a time limit and a size limit (see `_Sandbox`)."""
    from jinja2 import FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

    from . import cache

    class _Sandbox(ImmutableSandboxedEnvironment):
        """Jinja2's immutable sandbox plus limits. Every call, attribute or item lookup and `*`/`**` checks the render
        deadline — a template's loops all iterate over results of such operations, so a loop that runs forever
        meets one — and refuses values that would outgrow the output limit (string repetition, doubling a string
        in a loop, huge powers)."""

        intercepted_binops = frozenset({"*", "**"})

        def call(self, __context, __obj, *args, **kwargs):  # noqa: N807 - Jinja2's signature
            _tick()
            return _sized(super().call(__context, __obj, *args, **kwargs))

        def getattr(self, obj, attribute):
            _tick()
            return _sized(super().getattr(obj, attribute))

        def getitem(self, obj, argument):
            _tick()
            return _sized(super().getitem(obj, argument))

        def call_binop(self, context, operator, left, right):
            _tick()
            if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is too large")
            if operator == "*":
                for seq, n in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_OUTPUT_CHARS:
                        raise SecurityError(f"repeating a value {n} times would exceed {MAX_OUTPUT_CHARS:,} characters")
            return super().call_binop(context, operator, left, right)

    def _sized(value):
        if isinstance(value, (str, list, tuple)) and len(value) > MAX_OUTPUT_CHARS:
            raise SecurityError(f"a value grew beyond {MAX_OUTPUT_CHARS:,} characters")
        return value

    def _tick():
        if time.monotonic() > _deadline.get():
            raise SecurityError(f"rendering took longer than {MAX_RENDER_SECONDS:g} s")

    import jinja2

    from . import __version__

    options = dict(undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                   autoescape=False)
    compiled = cache.templates(f"advisor {__version__}, jinja2 {jinja2.__version__}, {_Sandbox.__name__} "
                               f"{sorted(_Sandbox.intercepted_binops)}, {sorted(options.items(), key=str)}")
    env = _Sandbox(
        loader=FileSystemLoader(str(shipped("templates"))),
        bytecode_cache=FileSystemBytecodeCache(str(compiled)) if compiled else None, **options)
    env.filters.update(usd=usd, num=num, pct=pct, ms=ms, md=md, cell=cell, applies=applies, value=value,
                       values=values, change_value=change_value)
    return env


def render(template: str, *, source: str | None = None, **context: Any) -> str:
    """Render a shipped template by name, or `source` (a user's template text, named `template` in errors)."""
    import jinja2
    from jinja2.sandbox import SecurityError

    token = _deadline.set(time.monotonic() + MAX_RENDER_SECONDS)
    try:
        env = _environment()
        compiled = env.get_template(template) if source is None else env.from_string(source)
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
    except jinja2.UndefinedError as e:
        raise TemplateError(f"{template}: {e.message} (see the memo variables in templates/decision.md.j2)") from None
    except jinja2.TemplateError as e:
        raise TemplateError(f"{template}: {e}") from None
    finally:
        _deadline.reset(token)


# -- the decision memo ------------------------------------------------------------------------------------------------

class Point(NamedTuple):
    """One line of 'why not': how many points a difference cost the runner-up, and why."""

    points: float
    text: str


def contrast(winner: Any, other: Any, months: int) -> list[Point]:
    """Where `other` lost points against `winner`, largest first: rules only one of them fired, and cost."""
    mine = {r.rule: r for r in winner.reasons}
    theirs = {r.rule: r for r in other.reasons}
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


def memo(decision: Any, *, changes: list[Any] | None = None, robustness: str | None = None, date: str | None = None,
         template: str | Path | None = None) -> str:
    """The Markdown decision memo: everything it shows comes from the decision, the computed `changes` and the
    Monte Carlo `robustness` line (see sensitivity). `template`: a user's own template's path, rendered sandboxed."""
    source = None
    if template is not None:
        from .io import read_text

        source, template = read_text(template, "template")
    ranking = decision.ranking
    p = decision.profile
    top = ranking[0]
    eligible = [r for r in ranking if r.eligible]
    months = p.preferences.horizon_months
    runners = [(r, contrast(top, r, months)) for r in eligible[1:3]] if top.eligible else []
    vetoes: dict[str, tuple[str, list[str]]] = {}
    for r in ranking:
        for v in r.vetoes:
            vetoes.setdefault(v.rule, (v.why, []))[1].append(r.id)
    # The vetoes that shape the decision most: those ruling out a whole family of candidates.
    drivers = sorted(((why, len(ids)) for why, ids in vetoes.values() if len(ids) >= 4), key=lambda x: (-x[1], x[0]))
    over_budget = next((m + 1 for m, usd_ in enumerate(top.cost.monthly_usd) if usd_ > p.budget.monthly_usd), None)
    context = dict(
        d=decision, p=p, top=top, eligible=eligible, runners=runners, vetoes=vetoes, drivers=drivers, months=months,
        date=date or _today(), chart=chart((eligible or ranking)[:3], months), changes=changes or [],
        self_hosted=[r for r in eligible if r.serving == "self-host" and r.facts.api_twin],
        over_budget_month=over_budget, robustness=robustness,
    )
    return render(template if template is not None else "decision.md.j2", source=source, **context)


def _today() -> str:
    import datetime

    return datetime.date.today().isoformat()
