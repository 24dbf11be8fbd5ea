"""Server-rendered SVG for comparisons: bars with their 95% intervals.

`web.charts` draws lines and plain bars; a comparison also needs each
bar's interval (whiskers) and the blended value across all groups (a dashed
line), so it is drawn here in the same visual language (palette, axis, labels).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from web.charts import PALETTE


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    muted: bool = False  # too small to conclude: drawn pale


def _nice_top(value: float) -> float:
    """A round number at or above `value` for the top of the axis."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _format(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.1f}%"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def interval_bar_chart(
    bars: Sequence[Bar], *, percent: bool, reference: float | None = None, title: str = "", height: int = 240
) -> SafeString:
    """Vertical bars with 95% interval whiskers; `reference` draws a dashed line (e.g. everyone's value)."""
    width, left, right, top_pad, bottom = 720, 56, 12, 20, 28
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    highest = max([b.high if b.high is not None else (b.value or 0) for b in bars] + [reference or 0, 0])
    top = 1.0 if percent and highest > 0.5 else _nice_top(highest * 1.05)

    def y(value: float) -> float:
        return top_pad + plot_h * (1 - max(0.0, min(value, top)) / top)

    parts = []
    for i in range(5):
        tick = top * (4 - i) / 4
        parts.append(
            f'<line class="grid-line" x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{escape(_format(tick, percent))}</text>'
        )
    n = max(len(bars), 1)
    slot = plot_w / n
    bar_w = min(slot * 0.56, 120)
    for index, bar in enumerate(bars):
        centre = left + slot * (index + 0.5)
        color = PALETTE[index % len(PALETTE)]
        label = bar.label if len(bar.label) <= 28 else bar.label[:27] + "…"
        parts.append(f'<text x="{centre:.1f}" y="{height - 8}" text-anchor="middle">{escape(label)}</text>')
        if bar.value is None:
            continue
        opacity = ' fill-opacity="0.35"' if bar.muted else ""
        hover = f"{bar.label}: {_format(bar.value, percent)}"
        if bar.low is not None and bar.high is not None:
            hover += f" (95% interval {_format(bar.low, percent)} to {_format(bar.high, percent)})"
        parts.append(
            f'<rect class="bar" x="{centre - bar_w / 2:.1f}" y="{y(bar.value):.1f}" width="{bar_w:.1f}"'
            f' height="{y(0) - y(bar.value):.1f}" style="fill:{color}"{opacity}><title>{escape(hover)}</title></rect>'
        )
        label_top = y(bar.high) if bar.high is not None else y(bar.value)
        parts.append(
            f'<text class="bar-value" x="{centre:.1f}" y="{max(label_top - 6, 10):.1f}" text-anchor="middle">'
            f"{escape(_format(bar.value, percent))}</text>"
        )
        if bar.low is not None and bar.high is not None:
            low, high = y(bar.low), y(bar.high)
            cap = bar_w / 5
            parts.append(
                f'<g class="whisker"><line x1="{centre:.1f}" x2="{centre:.1f}" y1="{low:.1f}" y2="{high:.1f}"/>'
                f'<line x1="{centre - cap:.1f}" x2="{centre + cap:.1f}" y1="{low:.1f}" y2="{low:.1f}"/>'
                f'<line x1="{centre - cap:.1f}" x2="{centre + cap:.1f}" y1="{high:.1f}" y2="{high:.1f}"/></g>'
            )
    if reference is not None:
        parts.append(
            f'<line class="reference" x1="{left}" x2="{width - right}" y1="{y(reference):.1f}" y2="{y(reference):.1f}">'
            f"<title>Everyone: {escape(_format(reference, percent))}</title></line>"
        )
    parts.append(f'<line class="axis" x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}"/>')
    svg = (
        f'<svg class="chart interval-chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        + "".join(parts)
        + "</svg>"
    )
    return mark_safe(svg)  # noqa: S308 - every text part is escaped above
