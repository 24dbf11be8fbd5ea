"""Template helpers of the segment pages: builder inputs, sparklines, trend words."""

from __future__ import annotations

import json
from collections.abc import Sequence

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from segments.builder import NodeView, field_words

register = template.Library()


@register.simple_tag
def field_attrs(node: NodeView, name: str) -> SafeString:
    """`name`, `id` and the error state of one builder input: `n-<path>-<name>` / `f-<path>-<name>`."""
    error = node.errors.get(name)
    extra = format_html(' aria-invalid="true" aria-describedby="e-{}-{}"', node.path, name) if error else ""
    return format_html('name="n-{}-{}" id="f-{}-{}"{}', node.path, name, node.path, name, extra)


@register.simple_tag
def field_error(node: NodeView, name: str, label: str = "") -> SafeString:
    """The error of one builder input, naming the field and why."""
    error = node.errors.get(name)
    if not error:
        return mark_safe("")
    return format_html(
        '<small class="error" role="alert" id="e-{}-{}">{}: {}</small>',
        node.path,
        name,
        label or field_words(name),
        error,
    )


@register.simple_tag
def op_vals(*parts: object) -> SafeString:
    """hx-vals JSON for a builder button's operation: `{% op_vals "remove" path %}` -> {"op": "remove:r_1"}."""
    return format_html("{}", json.dumps({"op": ":".join(str(part) for part in parts)}))


@register.filter
def field_label(name: str) -> str:
    """A builder input's name in words: count_value -> count, ev_w0_value -> event filter 1 value."""
    return field_words(name)


@register.filter
def sparkline(values: Sequence[int | float], size: str = "120x28") -> SafeString:
    """A tiny line of the values, no axes: the shape of a trend next to its numbers."""
    width, height = (int(n) for n in size.split("x"))
    values = list(values or [])
    if len(values) < 2:
        return mark_safe("")
    low, high = min(values), max(values)
    span = (high - low) or 1
    step = width / (len(values) - 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}" for i, v in enumerate(values)
    )
    return format_html(
        '<svg class="sparkline" viewBox="0 0 {} {}" width="{}" height="{}" aria-hidden="true">'
        '<polyline points="{}"/></svg>',
        width, height, width, height, points,
    )  # fmt: skip


@register.filter
def signed(value: int | None) -> str:
    if value is None:
        return ""
    return f"+{value:,}" if value > 0 else f"{value:,}"


@register.filter
def share_percent(share: float) -> str:
    """0.1234 -> 12.3%."""
    percent = (share or 0) * 100
    if percent == 0:
        return "0%"
    if percent < 0.1:
        return "<0.1%"
    return f"{percent:.1f}%" if percent < 10 else f"{percent:.0f}%"


@register.filter
def ratio(value: int | float, total: int | float) -> float:
    return (value or 0) / total if total else 0.0


@register.filter
def get_item(mapping: dict, key: object) -> object:
    return mapping.get(key) if isinstance(mapping, dict) else None
