"""A segment definition in plain words, for the segment page and the lists.

`describe(definition, project)` returns a tree of `Described` nodes: a group is
a heading ("All of", "Any of", "None of", "Not all of") over its children, a
condition is one sentence, e.g. "did Created project at least 3 times in the
last 30 days". `describe_text` flattens it to one line. Names of actions and
referenced segments are looked up in two queries, whatever the size of the tree.

Stored definitions are valid, but this module never assumes it: a malformed
part is described as well as it can be rather than raising.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from segments.models import Segment
from tracking.models import Action, Project

OPERATOR_WORDS = {
    "eq": "is",
    "neq": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "not_contains": "does not contain",
    "regex": "matches the pattern",
    "gt": "is greater than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "is_set": "is set",
    "is_not_set": "is not set",
}
DEVICE_WORDS = {"browser": "browser", "os": "operating system", "device_type": "device type"}
GEO_WORDS = {"country": "country", "region": "region", "city": "city"}
SESSION_WORDS = {
    "duration_seconds": "duration (seconds)", "pageview_count": "page views", "entry_path": "entry path",
    "exit_path": "exit path", "utm_source": "UTM source", "utm_medium": "UTM medium",
    "utm_campaign": "UTM campaign", "utm_term": "UTM term", "utm_content": "UTM content",
    "referrer_domain": "referring domain", **DEVICE_WORDS, **GEO_WORDS,
}  # fmt: skip
FUNCTION_WORDS = {"sum": "total", "avg": "average", "min": "smallest", "max": "largest"}


@dataclass
class Described:
    """One node of a described definition: a sentence, or a heading over children."""

    text: str
    children: list[Described] = field(default_factory=list)
    is_group: bool = False

    def flat(self) -> str:
        if not self.is_group:
            return self.text
        if not self.children:
            return self.text
        return f"{self.text} ({'; '.join(child.flat() for child in self.children)})"


def _quote(text: Any) -> str:
    return f"“{text}”"


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return _quote(value)
    return f"{value:,}" if isinstance(value, int) else str(value)


def filter_words(subject: str, operator: Any, value: Any) -> str:
    """`plan is “pro”`, `email contains “@acme”`, `age is at least 30`, `plan is set`."""
    words = OPERATOR_WORDS.get(operator, str(operator))
    if operator in ("is_set", "is_not_set"):
        return f"{subject} {words}"
    return f"{subject} {words} {_value(value)}"


def times(operator: Any, value: Any) -> str:
    """`at least 3 times`, `exactly once`, `fewer than 2 times`."""
    n = value if isinstance(value, int) and not isinstance(value, bool) else 0
    unit = "once" if n == 1 else "twice" if n == 2 else f"{value} times"
    return {
        "eq": f"exactly {unit}",
        "neq": f"other than {unit}",
        "gt": f"more than {unit}",
        "gte": f"at least {unit}",
        "lt": f"fewer than {value} times" if n != 1 else "less than once",
        "lte": f"at most {unit}",
    }.get(operator, f"{operator} {value} times")


def days_count(operator: Any, value: Any) -> str:
    return how_many(operator, value, "day", "days")


def how_many(operator: Any, value: Any, one: str, many: str) -> str:
    """`at least 3 days`, `exactly 1 session`."""
    unit = one if value == 1 else many
    return {
        "eq": f"exactly {value} {unit}",
        "neq": f"other than {value} {unit}",
        "gt": f"more than {value} {unit}",
        "gte": f"at least {value} {unit}",
        "lt": f"fewer than {value} {unit}",
        "lte": f"at most {value} {unit}",
    }.get(operator, f"{operator} {value} {unit}")


def window_words(window: Any) -> str:
    """` in the last 30 days`, ` between 2026-11-01 and 2026-11-30`, or "" (all history)."""
    if not isinstance(window, dict):
        return ""
    if "last_days" in window:
        days = window["last_days"]
        return " in the last day" if days == 1 else f" in the last {days} days"
    if "from" in window or "to" in window:
        start, end = window.get("from", "?"), window.get("to", "?")
        return f" on {start}" if start == end else f" between {start} and {end}"
    return ""


class _Describer:
    def __init__(self, project: Project, definition: Any):
        action_ids, segment_ids = set(), set()
        _collect(definition, action_ids, segment_ids)
        self.actions = (
            dict(Action.objects.filter(project_id=project.pk, pk__in=action_ids).values_list("pk", "name"))
            if action_ids
            else {}
        )
        self.segments: dict[int, str] = {}
        if segment_ids:
            self.segments = dict(
                Segment.objects.filter(project_id=project.pk, pk__in=segment_ids).values_list("pk", "name")
            )

    def event(self, spec: Any) -> str:
        if not isinstance(spec, dict):
            return "an event"
        if "action" in spec:
            name = self.actions.get(spec["action"])
            return name if name else f"action #{spec['action']} (deleted)"
        text = _quote(spec.get("name", "?"))
        filters = [
            filter_words(str(f.get("property", "?")), f.get("operator"), f.get("value"))
            for f in spec.get("where") or []
            if isinstance(f, dict)
        ]
        if filters:
            text += " where " + " and ".join(filters)
        return text

    def group(self, node: dict) -> Described:
        match = node.get("match", "all")
        negate = bool(node.get("negate"))
        heading = {
            ("all", False): "All of",
            ("any", False): "Any of",
            ("all", True): "Not all of",
            ("any", True): "None of",
        }.get((match, negate), "All of")
        children = []
        for child in node.get("conditions") or []:
            if not isinstance(child, dict):
                continue
            children.append(
                self.group(child) if ("conditions" in child or "match" in child) else self.condition(child)
            )
        if not children:
            heading = "No one" if (match == "any") != negate else "Everyone"
        return Described(heading, children, is_group=True)

    def condition(self, node: dict) -> Described:
        if node.get("type") == "people":
            return self.people(node)
        method = getattr(self, f"c_{node.get('type')}", None)
        if method is None:
            return Described(f"an unknown condition ({node.get('type')!r})")
        return Described(method(node))

    def c_person(self, node: dict) -> str:
        return filter_words(str(node.get("property", "?")), node.get("operator"), node.get("value"))

    def c_company(self, node: dict) -> str:
        return "company " + filter_words(
            str(node.get("property", "?")), node.get("operator"), node.get("value")
        )

    def c_device(self, node: dict) -> str:
        subject = DEVICE_WORDS.get(node.get("property"), str(node.get("property")))
        return self._session(subject, node)

    def c_geo(self, node: dict) -> str:
        subject = GEO_WORDS.get(node.get("property"), str(node.get("property")))
        return self._session(subject, node)

    def _session(self, subject: str, node: dict) -> str:
        # any session in the window matches (docs/segments.md)
        when = window_words(node.get("window")).replace(" in the last", " started in the last") or ""
        return f"had a session{when} where {filter_words(subject, node.get('operator'), node.get('value'))}"

    def c_session(self, node: dict) -> str:
        count = node.get("count") or {"operator": "gte", "value": 1}
        operator, value = count.get("operator"), count.get("value")
        if (operator, value) in (("eq", 0), ("lt", 1), ("lte", 0)):
            text = "had no session"
        elif (operator, value) in (("gte", 1), ("gt", 0), ("neq", 0)):
            text = "had a session"
        else:
            text = f"had {how_many(operator, value, 'session', 'sessions')}"
        filters = [
            filter_words(
                SESSION_WORDS.get(f.get("property"), str(f.get("property"))),
                f.get("operator"),
                f.get("value"),
            )
            for f in node.get("where") or []
            if isinstance(f, dict)
        ]
        when = window_words(node.get("window")).replace(" in the last", " started in the last")
        return text + when + (" where " + " and ".join(filters) if filters else "")

    def c_behavior(self, node: dict) -> str:
        event = self.event(node.get("event"))
        count = node.get("count") or {"operator": "gte", "value": 1}
        operator, value = count.get("operator"), count.get("value")
        window = window_words(node.get("window"))
        if (operator, value) in (("eq", 0), ("lt", 1), ("lte", 0)):
            return f"never did {event}{window}"
        if (operator, value) in (("gte", 1), ("gt", 0), ("neq", 0)):
            return f"did {event}{window}"
        return f"did {event} {times(operator, value)}{window}"

    def c_active_days(self, node: dict) -> str:
        count = node.get("count") or {}
        return f"was active on {days_count(count.get('operator'), count.get('value'))}" + window_words(
            node.get("window")
        )

    def c_aggregate(self, node: dict) -> str:
        function = FUNCTION_WORDS.get(node.get("function"), str(node.get("function")))
        comparison = OPERATOR_WORDS.get(node.get("operator"), str(node.get("operator")))
        return (
            f"the {function} {_quote(node.get('property', '?'))} of {self.event(node.get('event'))}"
            f" {comparison} {_value(node.get('value'))}" + window_words(node.get("window"))
        )

    def c_rank(self, node: dict) -> str:
        """`Top 10% by sum of amount of “purchase” in the last 30 days`, `Bottom 100 by number of “signed_up”`."""
        measure = node.get("measure") if isinstance(node.get("measure"), dict) else {}
        event = self.event(measure.get("event"))
        by = {
            "sum": f"sum of {measure.get('property', '?')} of {event}",
            "active_days": f"days active with {event}",
        }.get(measure.get("of"), f"number of {event}")
        top = node.get("top") if isinstance(node.get("top"), dict) else {}
        size = (
            f"{top['percent']:g}%"
            if isinstance(top.get("percent"), int | float)
            else _value(top.get("count"))
        )
        direction = "Bottom" if node.get("direction") == "bottom" else "Top"
        return f"{direction} {size} by {by}" + window_words(node.get("window"))

    def c_sequence(self, node: dict) -> str:
        steps = [self.event(step) for step in node.get("steps") or []]
        days = node.get("within_days", 30)
        within = "within a day" if days == 1 else f"within {days} days"
        window = window_words(node.get("window"))
        if window and node.get("window_covers") == "first_step":
            window = f", the first step{window} (the others may come after it)"
        if node.get("last_step") == "did_not" and steps:
            done = ", then ".join(steps[:-1])
            return f"did {done}, but never went on to {steps[-1]} {within}{window}"
        return f"did {', then '.join(steps)} ({within} of the first){window}"

    def c_first_seen(self, node: dict) -> str:
        days = node.get("value")
        unit = "day" if days == 1 else f"{days} days"
        if node.get("type") == "first_seen":
            if node.get("operator") == "before_last_days":
                return f"was first seen more than {unit} ago"
            return f"was first seen in the last {unit}"
        if node.get("operator") == "before_last_days":
            return f"has not been seen for {unit}"
        return f"was last seen in the last {unit}"

    c_last_seen = c_first_seen

    def c_first_time(self, node: dict) -> str:
        days = node.get("within_last_days")
        unit = "day" if days == 1 else f"{days} days"
        return f"did {self.event(node.get('event'))} for the first time in the last {unit}"

    def c_stopped(self, node: dict) -> str:
        days = node.get("days")
        unit = "day" if days == 1 else f"{days} days"
        return f"stopped doing {self.event(node.get('event'))}: did it in the {unit} before the last {unit}, not since"

    def c_restarted(self, node: dict) -> str:
        days = node.get("days")
        unit = "day" if days == 1 else f"{days} days"
        return (
            f"started doing {self.event(node.get('event'))} again: in the last {unit},"
            f" not in the {unit} before, but at some time before that"
        )

    def c_survey(self, node: dict) -> str:
        where = f"{_quote(node.get('question', '?'))} in survey {_quote(node.get('survey', '?'))}"
        if node.get("operator") == "is_not_set":
            return f"never answered {where}"
        if node.get("operator") == "is_set":
            return f"answered {where}"
        return "latest answer to " + filter_words(where, node.get("operator"), node.get("value"))

    def c_segment(self, node: dict) -> str:
        segment_id = node.get("segment")
        name = self.segments.get(segment_id)
        label = _quote(name) if name else f"segment #{segment_id} (deleted)"
        return f"is not in {label}" if node.get("negate") else f"is in {label}"

    def c_company_segment(self, node: dict) -> str:
        segment_id = node.get("segment")
        name = self.segments.get(segment_id)
        label = _quote(name) if name else f"segment #{segment_id} (deleted)"
        return (
            f"works at a company not in {label}" if node.get("negate") else f"works at a company in {label}"
        )

    def people(self, node: dict) -> Described:
        """A company's people: `At least 2 people of the company match all of: …`."""
        count = node.get("count") if isinstance(node.get("count"), dict) else {}
        inner = node.get("definition") if isinstance(node.get("definition"), dict) else {}
        described = self.group(inner)
        whom = how_many(count.get("operator", "gte"), count.get("value", 1), "person", "people")
        heading = f"{whom} of the company match {described.text[0].lower()}{described.text[1:]}"
        return Described(heading, described.children, is_group=True)


def _collect(node: Any, action_ids: set[int], segment_ids: set[int]) -> None:
    if not isinstance(node, dict):
        return
    for child in node.get("conditions") or []:
        _collect(child, action_ids, segment_ids)
    if node.get("type") == "people":
        _collect(node.get("definition"), action_ids, segment_ids)
    if node.get("type") in ("segment", "company_segment") and isinstance(node.get("segment"), int):
        segment_ids.add(node["segment"])
    measure = node.get("measure") if isinstance(node.get("measure"), dict) else {}
    specs = [node.get("event"), measure.get("event"), *(node.get("steps") or [])]
    for spec in specs:
        if isinstance(spec, dict) and isinstance(spec.get("action"), int):
            action_ids.add(spec["action"])


def describe(definition: Any, project: Project) -> Described:
    """The definition as a heading over sentences (nested for nested groups)."""
    if not isinstance(definition, dict):
        return Described("Not a definition", is_group=True)
    return _Describer(project, definition).group(definition)


def describe_text(definition: Any, project: Project) -> str:
    """The whole definition on one line."""
    return describe(definition, project).flat()
