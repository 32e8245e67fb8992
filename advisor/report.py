"""Markdown rendering with Jinja2: templates are data in `templates/`; this module only supplies formatting."""

from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import TemplateError
from .fmt import ms, num, pct, usd
from .resources import shipped

if TYPE_CHECKING:
    from .evaluation import Evaluation


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
FILTERS = dict(usd=usd, num=num, pct=pct, ms=ms, md=md, cell=cell, applies=applies, value=value, values=values,
               change_value=change_value)


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
            intercepted_binops = frozenset({"*", "**"})

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
                return super().call_binop(context, operator, left, right)

        self.env = Sandbox(loader=FileSystemLoader(str(shipped("templates"))), undefined=StrictUndefined,
                           trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)
        self.env.filters.update(FILTERS)

    def render(self, template: str, *, source: str | None = None, **context: Any) -> str:
        """Render a shipped template by name, or `source` (a user's template text, named `template` in errors)."""
        import jinja2
        from jinja2.exceptions import SecurityError

        self.deadline = time.monotonic() + MAX_RENDER_SECONDS
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
        except jinja2.UndefinedError as e:
            raise TemplateError(f"{template}: {e.message} (see the memo variables in templates/decision.md.j2)"
                                ) from None
        except jinja2.TemplateError as e:
            raise TemplateError(f"{template}: {e}") from None
        finally:
            self.deadline = math.inf


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


def memo(ev: Evaluation, templates: Templates, *, date: str | None = None,
         template: str | Path | None = None) -> str:
    """The Markdown decision memo of an evaluated profile: the decision, its flip points and its Monte Carlo
    robustness line. `template`: a user's own template's path, rendered sandboxed."""
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
        date=date or _today(), chart=chart((eligible or ranking)[:3], months), changes=ev.changes,
        self_hosted=[r for r in eligible if r.serving == "self-host" and r.facts.api_twin],
        over_budget_month=over_budget, robustness=ev.robustness,
    )
    return templates.render(template if template is not None else "decision.md.j2", source=source, **context)


def _today() -> str:
    import datetime

    return datetime.date.today().isoformat()
