"""Formatting and charts for analysis results, usable wherever a result partial is rendered."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from analysis import stats
from analysis.charts import Bar, interval_bar_chart
from analysis.compare import CompareResult
from analysis.forms import querystring
from analysis.retention import RetentionResult
from web.charts import Series, line_chart

register = template.Library()


@register.filter
def percent(value: Any, digits: int = 1) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{digits}f}%"


@register.filter
def points(value: Any) -> str:
    """A difference of rates in percentage points, signed."""
    if value is None:
        return "—"
    return f"{float(value) * 100:+.1f} pp"


@register.filter
def number(value: Any, digits: int = 2) -> str:
    if value is None or value == "":
        return "—"
    value = float(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


@register.filter
def signed(value: Any) -> str:
    if value is None:
        return "—"
    return f"{float(value):+,.2f}"


@register.filter
def p_value(value: Any) -> str:
    return stats.p_text(value)


@register.simple_tag
def metric_value(value: Any, is_rate: bool) -> str:
    return percent(value) if is_rate else number(value)


@register.simple_tag
def compare_chart(result: CompareResult) -> SafeString:
    bars = [
        Bar(
            g.label,
            g.value,
            g.interval.low if g.interval else None,
            g.interval.high if g.interval else None,
            muted=bool(g.too_small),
        )
        for g in result.groups
    ]
    return interval_bar_chart(
        bars,
        percent=result.query.metric.is_rate,
        reference=result.overall.value,
        title=result.query.metric.name,
    )


@register.simple_tag
def retention_chart(result: RetentionResult) -> SafeString:
    """Average retention per period and group, over the periods every group has complete cohorts for."""
    shown = 0
    for n in range(result.query.periods):
        if not all(curve.rates[n] is not None for curve in result.curves):
            break
        shown = n + 1
    if shown < 2:
        return mark_safe("")
    series = [
        Series(curve.group, [round(100 * (r or 0.0), 1) for r in curve.rates[:shown]])
        for curve in result.curves
    ]
    return line_chart(result.period_labels[:shown], series, title="Retention, % of the cohort")


@register.filter
def width(share: Any) -> str:
    """A share (0…1) as a CSS width percentage, clamped."""
    try:
        value = max(0.0, min(1.0, float(share or 0)))
    except (TypeError, ValueError):
        value = 0.0
    return f"{value * 100:.1f}%"


@register.filter
def heat(rate: Any) -> str:
    """A background for a retention cell: stronger for higher rates."""
    if rate is None:
        return ""
    alpha = 0.08 + 0.6 * max(0.0, min(1.0, float(rate)))
    return f"background: rgba(79, 70, 229, {alpha:.2f})"


@register.filter
def get(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.simple_tag
def analysis_querystring(kind: str, result: Any) -> str:
    """The query string of the page showing this result (for links to drop-offs and back)."""

    return querystring(kind, result.query.to_json())


@register.filter
def ids(values: Any) -> str:
    return ",".join(str(v) for v in values or [])


@register.simple_tag(takes_context=True)
def segment_url(context: Any, kind: str, result: Any, **part: Any) -> str:
    """The "Save as segment" page for one part of this result: `part_step=2`, `part_outcome="dropped"`, …

    A part given as None is left out (a funnel row for everyone has no `part_value`).
    """
    pairs = [("source", kind)] + [
        (f"part_{key}", str(value)) for key, value in part.items() if value is not None
    ]
    base = reverse("analysis_segment_new", args=[context["project"].pk])
    return f"{base}?{urlencode(pairs)}&{querystring(kind, result.query.to_json())}"


@register.simple_tag(takes_context=True)
def path_segment_url(context: Any, result: Any, group: Any, *nodes: Any) -> str:
    """The "Save as segment" page for the paths node reached through `nodes` (from the start) in `group`."""
    pairs = [("source", "paths"), ("part_group", "" if group.segment_id is None else str(group.segment_id))]
    for node in nodes:
        if node.folded:
            pairs.append(("part_last", "other"))
        elif node.label is None:
            pairs.append(("part_last", "ended"))
        else:
            pairs.append(("part_path", node.label))
    base = reverse("analysis_segment_new", args=[context["project"].pk])
    return f"{base}?{urlencode(pairs)}&{querystring('paths', result.query.to_json())}"
