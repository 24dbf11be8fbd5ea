"""The management API's parsers: only text that PostgreSQL can store gets past them."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from web.text import form_is_storable, is_storable_text


def _unstorable_text(data: object) -> bool:
    """True when any key or string in the document is text no PostgreSQL column (text or jsonb) can hold."""
    pending = [data]
    while pending:  # iterative: the document may be nested as deep as the parser allowed
        value = pending.pop()
        if isinstance(value, str):
            if not is_storable_text(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


_UNSTORABLE = "text with a NUL character or a lone surrogate cannot be stored."


def _check_form(data):
    """A form body (a QueryDict) holds only strings: refuse it whole if any key or value is unstorable."""
    if not form_is_storable(data):
        raise ParseError(f"Form parse error - {_UNSTORABLE}")
    return data


class JSONParser(parsers.JSONParser):
    """DRF's parser, answering 400 (not 500) for NUL, lone surrogates and nesting too deep to parse."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        if _unstorable_text(data):
            raise ParseError(f"JSON parse error - {_UNSTORABLE}")
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return _check_form(super().parse(stream, media_type, parser_context))


class MultiPartParser(parsers.MultiPartParser):
    """Form fields are checked; uploaded files are bytes, and whoever reads one validates its text."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        _check_form(parsed.data)
        return parsed
