"""Validation of segment definitions (the public format in docs/segments.md).

`validate_definition` checks a definition top to bottom and raises
DefinitionError with the JSON path of the first offending part, e.g.
`definition.conditions[2].count.operator`. It returns a normalised copy
(defaults filled in), which is what gets stored and compiled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from segments.definition_subjects import SubjectConditions
from segments.models import Segment
from tracking.models import Action
from tracking.properties import COMPARATORS, OPERATORS, FilterError, validate_filter

CONDITION_TYPES = (
    "person", "company", "device", "geo", "behavior", "active_days", "aggregate",
    "sequence", "first_seen", "last_seen", "survey", "segment", "first_time", "stopped", "restarted",
    "session", "rank", "people", "company_segment",
)  # fmt: skip
# A company segment's conditions: the company's traits, counts of its people, aggregates of its events.
COMPANY_CONDITION_TYPES = ("company", "people", "aggregate", "segment")
PERSON_ONLY = ("people",)
LIFECYCLE_VERBS = ("first_time", "stopped", "restarted")
DEVICE_PROPERTIES = ("browser", "os", "device_type")
GEO_PROPERTIES = ("country", "region", "city")
# A session condition filters sessions by these: numbers compared with eq…lte, text with the text operators.
SESSION_NUMBERS = ("duration_seconds", "pageview_count")
SESSION_TEXTS = (
    "entry_path", "exit_path", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "referrer_domain", *DEVICE_PROPERTIES, *GEO_PROPERTIES,
)  # fmt: skip
SESSION_PROPERTIES = SESSION_NUMBERS + SESSION_TEXTS
TEXT_OPERATORS = tuple(op for op in OPERATORS if op not in COMPARATORS or op in ("eq", "neq"))
MAX_SESSION_FILTERS = 20
AGGREGATE_FUNCTIONS = ("sum", "avg", "min", "max")
RANK_MEASURES = ("count", "sum", "active_days")
RANK_DIRECTIONS = ("top", "bottom")
MAX_RANK_COUNT = 10_000_000
MAX_DEPTH = 8
MAX_CONDITIONS = 200
MAX_SEQUENCE_STEPS = 8
# What a sequence's window bounds: every step, or only the first (later steps may follow
# after the window ends, up to within_days after the first — as a funnel counts them).
WINDOW_COVERS = ("all_steps", "first_step")
MAX_DAYS = 3650


@dataclass
class DefinitionError(ValueError):
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class _Validator(SubjectConditions):
    def __init__(self, *, project_id: int | None, segment_id: int | None, subject: str = "person"):
        self.project_id = project_id
        self.segment_id = segment_id
        self.subject = subject
        self.count = 0

    # -- helpers -------------------------------------------------------------
    def fail(self, path: str, message: str):
        raise DefinitionError(path, message)

    def obj(self, value: Any, path: str) -> dict:
        if not isinstance(value, dict):
            self.fail(path, "must be an object")
        return value

    def integer(self, value: Any, path: str, *, minimum: int = 0, maximum: int = MAX_DAYS) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            self.fail(path, "must be a whole number")
        if not minimum <= value <= maximum:
            self.fail(path, f"must be between {minimum} and {maximum}")
        return int(value)

    def number(self, value: Any, path: str) -> float | int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, "must be a number")
        return value

    def string(self, value: Any, path: str, *, limit: int = 200) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, "must be a non-empty string")
        if len(value) > limit:
            self.fail(path, f"must be at most {limit} characters")
        return value

    def choice(self, value: Any, path: str, choices: tuple[str, ...]) -> str:
        if value not in choices:
            self.fail(path, f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def filter(self, operator: Any, value: Any, path: str) -> None:
        if operator not in OPERATORS:
            self.fail(f"{path}.operator", f"must be one of {', '.join(OPERATORS)}; got {operator!r}")
        try:
            validate_filter(operator, value)
        except FilterError as error:
            self.fail(f"{path}.value", str(error))

    # -- the tree --------------------------------------------------------------
    def group(self, node: Any, path: str, depth: int) -> dict:
        node = self.obj(node, path)
        if depth > MAX_DEPTH:
            self.fail(path, f"groups may be nested at most {MAX_DEPTH} deep")
        unknown = set(node) - {"match", "negate", "conditions"}
        if unknown:
            self.fail(path, f"unknown key {sorted(unknown)[0]!r} in a group")
        match = self.choice(node.get("match", "all"), f"{path}.match", ("all", "any"))
        negate = node.get("negate", False)
        if not isinstance(negate, bool):
            self.fail(f"{path}.negate", "must be true or false")
        conditions = node.get("conditions", [])
        if not isinstance(conditions, list):
            self.fail(f"{path}.conditions", "must be a list")
        out = []
        for index, child in enumerate(conditions):
            child_path = f"{path}.conditions[{index}]"
            child = self.obj(child, child_path)
            self.count += 1
            if self.count > MAX_CONDITIONS:
                self.fail(child_path, f"a definition may have at most {MAX_CONDITIONS} conditions")
            if "conditions" in child or "match" in child:
                out.append(self.group(child, child_path, depth + 1))
            else:
                out.append(self.condition(child, child_path))
        return {"match": match, "negate": negate, "conditions": out}

    def condition(self, node: dict, path: str) -> dict:
        kind = node.get("type")
        if kind not in CONDITION_TYPES:
            self.fail(
                f"{path}.type", f"unknown condition type {kind!r}; use one of {', '.join(CONDITION_TYPES)}"
            )
        if self.subject == "company" and kind not in COMPANY_CONDITION_TYPES:
            self.fail(
                f"{path}.type",
                f"a company segment's conditions are {', '.join(COMPANY_CONDITION_TYPES)}; got {kind!r}"
                " (conditions on people go inside a people condition)",
            )
        if self.subject == "person" and kind in PERSON_ONLY:
            self.fail(f"{path}.type", f"{kind!r} is a condition of company segments")
        return getattr(self, f"c_{kind}")(node, path)

    def c_person(self, node: dict, path: str) -> dict:
        prop = self.string(node.get("property"), f"{path}.property")
        self.filter(node.get("operator"), node.get("value"), path)
        return {
            "type": node["type"],
            "property": prop,
            "operator": node["operator"],
            "value": node.get("value"),
        }

    c_company = c_person

    def _column(self, node: dict, path: str, properties: tuple[str, ...]) -> dict:
        prop = self.choice(node.get("property"), f"{path}.property", properties)
        self.filter(node.get("operator"), node.get("value"), path)
        out = {
            "type": node["type"],
            "property": prop,
            "operator": node["operator"],
            "value": node.get("value"),
        }
        if node.get("window") is not None:
            out["window"] = self.window(node["window"], f"{path}.window")
        return out

    def c_device(self, node: dict, path: str) -> dict:
        return self._column(node, path, DEVICE_PROPERTIES)

    def c_geo(self, node: dict, path: str) -> dict:
        return self._column(node, path, GEO_PROPERTIES)

    def c_session(self, node: dict, path: str) -> dict:
        where = node.get("where", [])
        if not isinstance(where, list):
            self.fail(f"{path}.where", "must be a list of session filters")
        if len(where) > MAX_SESSION_FILTERS:
            self.fail(f"{path}.where", f"takes at most {MAX_SESSION_FILTERS} filters")
        filters = []
        for index, item in enumerate(where):
            item_path = f"{path}.where[{index}]"
            item = self.obj(item, item_path)
            prop = self.choice(item.get("property"), f"{item_path}.property", SESSION_PROPERTIES)
            operator = item.get("operator")
            if prop in SESSION_NUMBERS:
                self.choice(operator, f"{item_path}.operator", COMPARATORS)
                value = self.number(item.get("value"), f"{item_path}.value")
            else:
                self.choice(operator, f"{item_path}.operator", TEXT_OPERATORS)
                self.filter(operator, item.get("value"), item_path)
                value = item.get("value")
            filters.append({"property": prop, "operator": operator, "value": value})
        out = {
            "type": "session",
            "where": filters,
            "count": self.count_spec(node.get("count", {"operator": "gte", "value": 1}), f"{path}.count"),
        }
        if node.get("window") is not None:
            out["window"] = self.window(node["window"], f"{path}.window")
        return out

    def count_spec(self, node: Any, path: str) -> dict:
        node = self.obj(node, path)
        operator = self.choice(node.get("operator"), f"{path}.operator", COMPARATORS)
        value = self.integer(node.get("value"), f"{path}.value", maximum=10_000_000)
        return {"operator": operator, "value": value}

    def c_behavior(self, node: dict, path: str) -> dict:
        out = {
            "type": "behavior",
            "event": self.event(node.get("event"), f"{path}.event"),
            "count": self.count_spec(node.get("count", {"operator": "gte", "value": 1}), f"{path}.count"),
        }
        if node.get("window") is not None:
            out["window"] = self.window(node["window"], f"{path}.window")
        return out

    def c_active_days(self, node: dict, path: str) -> dict:
        if node.get("window") is None:
            self.fail(f"{path}.window", "active_days needs a window")
        return {
            "type": "active_days",
            "count": self.count_spec(node.get("count"), f"{path}.count"),
            "window": self.window(node["window"], f"{path}.window"),
        }

    def c_aggregate(self, node: dict, path: str) -> dict:
        out = {
            "type": "aggregate",
            "event": self.event(node.get("event"), f"{path}.event"),
            "property": self.string(node.get("property"), f"{path}.property"),
            "function": self.choice(node.get("function"), f"{path}.function", AGGREGATE_FUNCTIONS),
            "operator": self.choice(node.get("operator"), f"{path}.operator", COMPARATORS),
            "value": self.number(node.get("value"), f"{path}.value"),
        }
        if node.get("window") is not None:
            out["window"] = self.window(node["window"], f"{path}.window")
        return out

    def c_rank(self, node: dict, path: str) -> dict:
        measure = self.obj(node.get("measure"), f"{path}.measure")
        of = self.choice(measure.get("of", "count"), f"{path}.measure.of", RANK_MEASURES)
        out_measure = {"event": self.event(measure.get("event"), f"{path}.measure.event"), "of": of}
        if of == "sum":
            if measure.get("property") is None:
                self.fail(f"{path}.measure.property", "a sum needs the numeric property to add up")
            out_measure["property"] = self.string(measure["property"], f"{path}.measure.property")
        elif measure.get("property") is not None:
            self.fail(f"{path}.measure.property", f"only a sum takes a property, not {of}")
        out = {"type": "rank", "measure": out_measure, "top": self.rank_top(node.get("top"), f"{path}.top")}
        out["direction"] = self.choice(node.get("direction", "top"), f"{path}.direction", RANK_DIRECTIONS)
        if node.get("window") is not None:
            out["window"] = self.window(node["window"], f"{path}.window")
        return out

    def rank_top(self, node: Any, path: str) -> dict:
        node = self.obj(node, path)
        if "percent" in node and "count" in node:
            self.fail(path, "give either percent or count, not both")
        if "percent" in node:
            percent = self.number(node["percent"], f"{path}.percent")
            if not 0 < percent <= 100:
                self.fail(f"{path}.percent", "must be more than 0 and at most 100")
            return {"percent": percent}
        if "count" in node:
            return {"count": self.integer(node["count"], f"{path}.count", minimum=1, maximum=MAX_RANK_COUNT)}
        self.fail(path, 'must be {"percent": p} or {"count": n}')

    def c_sequence(self, node: dict, path: str) -> dict:
        steps = node.get("steps")
        if not isinstance(steps, list) or not 2 <= len(steps) <= MAX_SEQUENCE_STEPS:
            self.fail(f"{path}.steps", f"must be a list of 2 to {MAX_SEQUENCE_STEPS} events")
        out = {
            "type": "sequence",
            "steps": [self.event(step, f"{path}.steps[{i}]") for i, step in enumerate(steps)],
            "within_days": self.integer(node.get("within_days", 30), f"{path}.within_days", minimum=1),
            "last_step": self.choice(node.get("last_step", "did"), f"{path}.last_step", ("did", "did_not")),
        }
        if node.get("window") is not None:
            out["window"] = self.window(node["window"], f"{path}.window")
        covers = self.choice(node.get("window_covers", "all_steps"), f"{path}.window_covers", WINDOW_COVERS)
        if covers == "first_step":
            # kept only when it says something: "all_steps" is every sequence written before it existed
            out["window_covers"] = covers
        return out

    def c_first_seen(self, node: dict, path: str) -> dict:
        return {
            "type": node["type"],
            "operator": self.choice(
                node.get("operator"), f"{path}.operator", ("within_last_days", "before_last_days")
            ),
            "value": self.integer(node.get("value"), f"{path}.value"),
        }

    c_last_seen = c_first_seen

    def c_first_time(self, node: dict, path: str) -> dict:
        return {
            "type": "first_time",
            "event": self.event(node.get("event"), f"{path}.event"),
            "within_last_days": self.integer(
                node.get("within_last_days"), f"{path}.within_last_days", minimum=1
            ),
        }

    def c_stopped(self, node: dict, path: str) -> dict:
        return {
            "type": node["type"],
            "event": self.event(node.get("event"), f"{path}.event"),
            "days": self.integer(node.get("days"), f"{path}.days", minimum=1, maximum=MAX_DAYS // 3),
        }

    c_restarted = c_stopped

    def c_survey(self, node: dict, path: str) -> dict:
        survey = self.string(node.get("survey"), f"{path}.survey")
        question = self.string(node.get("question"), f"{path}.question")
        self.filter(node.get("operator"), node.get("value"), path)
        return {
            "type": "survey",
            "survey": survey,
            "question": question,
            "operator": node["operator"],
            "value": node.get("value"),
        }

    def c_segment(self, node: dict, path: str) -> dict:
        def wrong_subject(segment_id: int, subject: str) -> str:
            hint = (
                "use a company_segment condition for people whose company is in it"
                if subject == "company"
                else "use a people condition to count a company's people in it"
            )
            return f"segment {segment_id} is a segment of {subject}s; {hint}"

        segment_id, negate = self.segment_reference(
            node, path, subject=self.subject, wrong_subject=wrong_subject
        )
        return {"type": "segment", "segment": segment_id, "negate": negate}

    def segment_reference(
        self, node: dict, path: str, *, subject: str, wrong_subject: Callable[[int, str], str]
    ) -> tuple[int, bool]:
        """A condition naming another segment (`segment`, `company_segment`): its id, of a segment of
        `subject` in the project that does not lead back to this one, and `negate`."""
        segment_id = node.get("segment")
        if isinstance(segment_id, bool) or not isinstance(segment_id, int):
            self.fail(f"{path}.segment", "must be a segment id")
        negate = node.get("negate", False)
        if not isinstance(negate, bool):
            self.fail(f"{path}.negate", "must be true or false")
        if self.project_id is not None:
            found = (
                Segment.objects.filter(pk=segment_id, project_id=self.project_id)
                .values_list("subject", flat=True)
                .first()
            )
            if found is None:
                self.fail(f"{path}.segment", f"no segment {segment_id} in this project")
            if found != subject:
                self.fail(f"{path}.segment", wrong_subject(segment_id, found))
            if self.segment_id is not None and _refers_to(segment_id, self.segment_id):
                self.fail(
                    f"{path}.segment", "a segment cannot include itself, directly or through another segment"
                )
        return segment_id, negate

    def event(self, node: Any, path: str) -> dict:
        node = self.obj(node, path)
        if "action" in node:
            action_id = node["action"]
            if isinstance(action_id, bool) or not isinstance(action_id, int):
                self.fail(f"{path}.action", "must be an action id")
            if self.project_id is not None:
                if not Action.objects.filter(pk=action_id, project_id=self.project_id).exists():
                    self.fail(f"{path}.action", f"no action {action_id} in this project")
            return {"action": action_id}
        name = self.string(node.get("name"), f"{path}.name")
        where = node.get("where", [])
        if not isinstance(where, list):
            self.fail(f"{path}.where", "must be a list of property filters")
        filters = []
        for index, item in enumerate(where):
            item_path = f"{path}.where[{index}]"
            item = self.obj(item, item_path)
            prop = self.string(item.get("property"), f"{item_path}.property")
            self.filter(item.get("operator"), item.get("value"), item_path)
            filters.append({"property": prop, "operator": item["operator"], "value": item.get("value")})
        return {"name": name, "where": filters}

    def window(self, node: Any, path: str) -> dict:
        node = self.obj(node, path)
        if "last_days" in node:
            return {"last_days": self.integer(node["last_days"], f"{path}.last_days", minimum=1)}
        if "from" in node or "to" in node:
            start = self.iso_date(node.get("from"), f"{path}.from")
            end = self.iso_date(node.get("to"), f"{path}.to")
            if end < start:
                self.fail(f"{path}.to", "must not be before from")
            return {"from": start.isoformat(), "to": end.isoformat()}
        self.fail(path, 'must be {"last_days": n} or {"from": date, "to": date}')

    def iso_date(self, value: Any, path: str) -> date:
        if not isinstance(value, str):
            self.fail(path, "must be an ISO date (YYYY-MM-DD)")
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            self.fail(path, f"{value!r} is not an ISO date (YYYY-MM-DD)")


def _refers_to(segment_id: int, target_id: int, seen: set[int] | None = None) -> bool:
    """Does segment `segment_id` (transitively) reference `target_id`?"""

    if segment_id == target_id:
        return True
    seen = seen or set()
    if segment_id in seen:
        return False
    seen.add(segment_id)
    segment = Segment.objects.filter(pk=segment_id).only("definition").first()
    if segment is None:
        return False
    return any(_refers_to(ref, target_id, seen) for ref in referenced_segments(segment.definition))


def refers_to(segment_id: int, target_id: int) -> bool:
    """Whether segment `segment_id` names segment `target_id`, directly or through other segments."""
    return _refers_to(segment_id, target_id)


def referenced_segments(definition: dict) -> list[int]:
    refs: list[int] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("segment", "company_segment") and isinstance(node.get("segment"), int):
                refs.append(node["segment"])
            if node.get("type") == "people":
                walk(node.get("definition"))
            for child in node.get("conditions", []) if isinstance(node.get("conditions"), list) else []:
                walk(child)

    walk(definition)
    return refs


def validate_definition(
    definition: Any,
    *,
    project_id: int | None = None,
    segment_id: int | None = None,
    subject: str = "person",
) -> dict:
    """Check a definition of a segment of `subject`s (person or company); return it normalised,
    or raise DefinitionError naming the offending part."""
    validator = _Validator(project_id=project_id, segment_id=segment_id, subject=subject)
    return validator.group(definition, "definition", 0)


def depends_on_time(definition: dict) -> bool:
    """Whether membership can change just because time passes (relative windows, first/last seen)."""

    def walk(node: Any) -> bool:
        if not isinstance(node, dict):
            return False
        if "conditions" in node:
            return any(walk(child) for child in node["conditions"])
        if node.get("type") == "people":
            return walk(node.get("definition"))
        if node.get("type") in ("first_seen", "last_seen", *LIFECYCLE_VERBS):
            return True
        window = node.get("window")
        return isinstance(window, dict) and "last_days" in window

    return walk(definition)


def depends_on_everyone(definition: dict) -> bool:
    """Whether one person's membership can change through other persons' events (a rank condition)."""
    return any(node.get("type") == "rank" for node in walk_conditions(definition))


def walk_conditions(definition: dict) -> Iterator[dict]:
    """Every condition (leaf) of a normalised definition, depth first; a company's `people`
    condition, then the conditions of its person definition."""
    for node in definition.get("conditions", []):
        if "conditions" in node:
            yield from walk_conditions(node)
        else:
            yield node
            if node.get("type") == "people" and isinstance(node.get("definition"), dict):
                yield from walk_conditions(node["definition"])
