"""A service's ValidationError shown on the form whose data it checked; a select of many options."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import mark_safe


def service_errors(error: ValidationError) -> list[tuple[str, list[str]]]:
    """The error's messages by key; messages raised without a key come under NON_FIELD_ERRORS."""
    if hasattr(error, "error_dict"):
        return list(error.message_dict.items())
    return [(NON_FIELD_ERRORS, list(error.messages))]


def apply_service_errors(
    form: forms.Form,
    error: ValidationError,
    *,
    field_for: Callable[[str], str | None] | None = None,
    place: Callable[[str, str], bool] | None = None,
    keep_unplaced: bool = False,
) -> dict[str, list[str]]:
    """Put each of a service's messages where the person will look for it.

    A message goes to the first that takes it: `place(key, message)` (rows of an
    editor, parts of a builder: it answers True when it took the message), the
    field `field_for(key)` names, the form field named like the key, and otherwise
    the top of the form ("key: message"; a message without a key as it is). With
    `keep_unplaced`, messages that found no field are returned instead of put on
    top, for a page that shows them in words of its own. Nothing is ever dropped.
    """
    unplaced: dict[str, list[str]] = {}
    for key, messages in service_errors(error):
        name = field_for(key) if field_for else None
        if name is None and key in form.fields:
            name = key
        for message in messages:
            if place is not None and place(key, message):
                continue
            if name is not None:
                form.add_error(name, message)
            elif keep_unplaced:
                unplaced.setdefault(key, []).append(message)
            elif key == NON_FIELD_ERRORS:
                form.add_error(None, message)
            else:
                form.add_error(None, f"{key}: {message}")
    return unplaced


class LongSelect(forms.Select):
    """A select written out in Python, markup as Django's: Django builds a dictionary for each option
    and renders it through a template, about 100 ms for the 600 time zones on every view of the page."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            attrs["multiple"] = True
        html = [f'<select name="{escape(name)}"{flatatt(attrs)}>']

        def option(option_value, label) -> None:
            selected = str(option_value) in chosen
            if selected and not self.allow_multiple_selected:
                chosen.clear()  # as Django: only the first option with the value is selected
            mark = " selected" if selected else ""
            html.append(f'<option value="{escape(option_value)}"{mark}>{escape(label)}</option>')

        for group, choices in self.choices:
            if isinstance(choices, list | tuple):
                html.append(f'<optgroup label="{escape(group)}">')
                for option_value, label in choices:
                    option(option_value, label)
                html.append("</optgroup>")
            else:
                option(group, choices)
        html.append("</select>")
        return mark_safe("".join(html))  # noqa: S308 - every name, value and label is escaped above
