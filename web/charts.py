"""Server-rendered SVG charts: no JavaScript, readable without it, printable.

`line_chart` draws one or more series over shared x labels; `bar_chart` draws
one series as vertical bars. Both return markup safe to put in a template
(`{{ chart }}`), with a <title> per point for hover text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["var(--c1)", "var(--c2)", "var(--c3)", "var(--c4)", "var(--c5)", "var(--c6)", "var(--c7)"]


@dataclass
class Series:
    name: str
    values: Sequence[float]


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _fmt(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _frame(
    width: int, height: int, top: float, labels: Sequence[str], pad: tuple[int, int, int, int]
) -> list[str]:
    left, right, top_pad, bottom = pad
    plot_h = height - top_pad - bottom
    parts = []
    for i in range(5):
        y = top_pad + plot_h * i / 4
        value = top * (4 - i) / 4
        parts.append(f'<line class="grid-line" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(_fmt(value))}</text>')
    n = len(labels)
    if n:
        step = max(1, n // 8)
        plot_w = width - left - right
        for i in range(0, n, step):
            x = left + (plot_w * (i + 0.5) / n)
            parts.append(
                f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle">{escape(labels[i])}</text>'
            )
    parts.append(
        f'<line class="axis" x1="{left}" x2="{width - right}" y1="{height - bottom}" y2="{height - bottom}"/>'
    )
    return parts


def line_chart(
    labels: Sequence[str], series: Sequence[Series], *, height: int = 220, title: str = ""
) -> SafeString:
    width, pad = 720, (48, 12, 10, 24)
    left, right, top_pad, bottom = pad
    top = _nice_max(max((v for s in series for v in s.values), default=0))
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    n = max(len(labels), 1)
    parts = _frame(width, height, top, labels, pad)
    for index, s in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        points = []
        dots = []
        for i, value in enumerate(s.values):
            x = left + plot_w * (i + 0.5) / n
            y = top_pad + plot_h * (1 - (value / top))
            points.append(f"{x:.1f},{y:.1f}")
            dots.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}"><title>{escape(s.name)} · '
                f"{escape(labels[i] if i < len(labels) else '')}: {escape(_fmt(value))}</title></circle>"
            )
        parts.append(f'<polyline class="series" stroke="{color}" points="{" ".join(points)}"/>')
        parts.extend(dots)
    legend = "".join(
        format_html('<span><i style="background:{}"></i>{}</span>', PALETTE[i % len(PALETTE)], s.name)
        for i, s in enumerate(series)
    )
    svg = (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        + "".join(parts)
        + "</svg>"
    )
    return mark_safe(svg + (f'<div class="legend">{legend}</div>' if len(series) > 1 else ""))  # noqa: S308 - built from escaped parts


def bar_chart(
    labels: Sequence[str], values: Sequence[float], *, height: int = 200, title: str = ""
) -> SafeString:
    width, pad = 720, (48, 12, 10, 24)
    left, right, top_pad, bottom = pad
    top = _nice_max(max(values, default=0))
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    n = max(len(values), 1)
    bar_w = plot_w / n * 0.7
    parts = _frame(width, height, top, labels, pad)
    for i, value in enumerate(values):
        x = left + plot_w * (i + 0.15) / n
        h = plot_h * value / top
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}">'
            f"<title>{escape(labels[i] if i < len(labels) else '')}: {escape(_fmt(value))}</title></rect>"
        )
    svg = f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">{"".join(parts)}</svg>'
    return mark_safe(svg)  # noqa: S308 - built from escaped parts
