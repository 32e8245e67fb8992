"""Markdown rendering with Jinja2: templates are data in `templates/`; this module only supplies formatting."""

from __future__ import annotations

import math
import re
from functools import cache
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


def values(d: dict[str, Any]) -> str:
    """Clause values for a trace table: `field` = value."""
    return "; ".join(f"`{k}` = {cell(value(v))}" for k, v in d.items()) or "—"


@cache
def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(shipped("templates"))),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(usd=usd, num=num, pct=pct, ms=ms, md=md, cell=cell, applies=applies, value=value,
                       values=values)
    return env


def render(template: str, **context: Any) -> str:
    import jinja2

    try:
        return _environment().get_template(template).render(**context)
    except jinja2.TemplateError as e:
        raise TemplateError(f"template {template}: {e}") from None


# -- the decision memo ------------------------------------------------------------------------------------------------

class Point(NamedTuple):
    """One line of 'why not': how many points a difference cost the runner-up, and why."""

    points: float
    text: str
    source: str


def contrast(winner: Any, other: Any, months: int) -> list[Point]:
    """Where `other` lost points against `winner`, largest first: rules only one of them fired, and cost."""
    mine = {r.rule: r for r in winner.reasons}
    theirs = {r.rule: r for r in other.reasons}
    out = [Point(r.points, r.why, r.source) for k, r in theirs.items() if k not in mine]
    out += [Point(-r.points, f"only `{winner.id}` earns this — {r.why}", r.source)
            for k, r in mine.items() if k not in theirs]
    delta = other.cost_points - winner.cost_points
    if abs(delta) >= 0.05:
        ratio = other.cost.tco_usd / winner.cost.tco_usd if winner.cost.tco_usd else math.inf
        text = (f"it costs {usd(other.cost.tco_usd)} over {months} months against {usd(winner.cost.tco_usd)}"
                + (f" ({ratio:.1f}× as much)" if math.isfinite(ratio) and ratio >= 1.05 else ""))
        out.append(Point(delta, text, "cost term: cost_weight × −log2(TCO ÷ cheapest), rules/ruleset.toml"))
    return sorted(out, key=lambda p: (p.points, p.text))


def memo(decision: Any, *, date: str | None = None) -> str:
    """The Markdown decision memo for a Decision (everything it shows comes from the decision itself)."""
    ranking = decision.ranking
    top = ranking[0]
    eligible = [r for r in ranking if r.eligible]
    months = decision.profile.preferences.horizon_months
    runners = [(r, contrast(top, r, months)) for r in eligible[1:3]] if top.eligible else []
    vetoes: dict[str, tuple[str, list[str]]] = {}
    for r in ranking:
        for v in r.vetoes:
            vetoes.setdefault(v.rule, (v.why, []))[1].append(r.id)
    return render("decision.md.j2", d=decision, p=decision.profile, top=top, eligible=eligible,
                  runners=runners, vetoes=vetoes, months=months, date=date or _today())


def _today() -> str:
    import datetime

    return datetime.date.today().isoformat()
