"""A service's ValidationError shown on the form whose data it checked."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


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
