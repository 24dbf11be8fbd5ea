"""Query-string filters of the data pages (events, persons, companies): parsed and validated here."""

from __future__ import annotations

from django import forms

from tracking.eventstore.stored import EventCursor

CURSOR_ERROR = "Not a position in this list; start again from the newest events."


class EventCursorField(forms.Field):
    """An opaque `(timestamp, uuid)` position from a previous page."""

    def to_python(self, value: object) -> EventCursor | None:
        text = str(value or "").strip()
        if not text:
            return None
        if len(text) > 200:
            raise forms.ValidationError(CURSOR_ERROR, code="invalid")
        try:
            return EventCursor.decode(text)
        except ValueError:
            raise forms.ValidationError(CURSOR_ERROR, code="invalid") from None


class LiveEventsFilter(forms.Form):
    """`event` narrows the feed to one name; `since` asks for what came after the newest event
    on the page; `before` pages back through older events."""

    event = forms.CharField(required=False, max_length=200)
    since = EventCursorField(required=False)
    before = EventCursorField(required=False)


class TimelineFilter(forms.Form):
    before = EventCursorField(required=False)


class SearchFilter(forms.Form):
    q = forms.CharField(required=False, max_length=200, strip=True)


def error_summary(form: forms.Form) -> str:
    """`field: message` for every error, for a page that rejects its query string."""
    return "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
