"""Text PostgreSQL can store: no lone surrogate (a JSON `\\ud800` escape lets one in) and no NUL."""

from __future__ import annotations

from django.http import QueryDict


def is_valid_text(value: str) -> bool:
    """False for text holding lone surrogates, which nothing can encode, store or hash."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_storable_text(value: str) -> bool:
    """Text a PostgreSQL text or jsonb column can hold: valid, and without U+0000."""
    return "\x00" not in value and is_valid_text(value)


def form_is_storable(data: QueryDict) -> bool:
    """Every key and value of a query string or form body is storable text."""
    return all(
        is_storable_text(key) and all(is_storable_text(v) for v in values) for key, values in data.lists()
    )
