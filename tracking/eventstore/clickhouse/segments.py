"""The segment compiler's event conditions on ClickHouse.

Each function runs its condition in ClickHouse and returns the matching person
ids; the facade hands them to PostgreSQL as an array (`ids_fragment`), so the
compiler keeps the boolean tree (and the "zero satisfies" negations) in
PostgreSQL, exactly as on the PostgreSQL backend. The id list holds only
persons with matching events, which is what the subquery on PostgreSQL yields.

Every read starts from `events_from` (persons resolved through merges). Event
names and the time window are pushed into its `where`, where the table's order
(project_id, person_id, timestamp), its monthly partitions and the `name` set
index prune what is read. A restriction to persons (incremental refresh) is
exact on the merged id, outside; inside, the stored ids that can resolve to
those persons (theirs and those merged into them) narrow the read along the
primary key, so a refresh costs what the touched persons' events cost.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from tracking.eventstore.clickhouse.client import Params, client
from tracking.eventstore.clickhouse.filters import (
    event_spec,
    json_filter,
    json_number,
    json_text,
    number_compare,
)
from tracking.eventstore.clickhouse.reads import events_from
from tracking.eventstore.clickhouse.writes import overrides_sql

ActionSteps = Callable[[int], list]
_CMP = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=", "neq": "!="}
_MICROS_PER_DAY = 86_400_000_000


def _names(specs: list[dict], action_steps: ActionSteps) -> list[str] | None:
    """The event names every match must have, or None when some spec matches any name."""
    names: set[str] = set()
    for spec in specs:
        if "action" in spec:
            steps = action_steps(spec["action"])
            if not steps or not all(step.get("event") for step in steps):
                return None
            names.update(step["event"] for step in steps)
        else:
            names.add(spec["name"])
    return sorted(names)


def _relation(
    project_id: int,
    specs: list[dict],
    p: Params,
    *,
    since: datetime | None,
    until: datetime | None,
    person_ids: list[int] | None,
    action_steps: ActionSteps,
) -> str:
    """The project's events, narrowed to the specs' names, the window and the persons before the merge join."""
    ch = client()
    where = []
    if person_ids is not None:
        ids = p.add(list(person_ids), "Array(Int64)")
        where.append(
            f"(person_id IN {ids} OR person_id IN (SELECT old_person_id"
            f" FROM ({overrides_sql(ch, project_id, p)}) WHERE new_person_id IN {ids}))"
        )
    names = _names(specs, action_steps)
    if names is not None:
        where.append(f"name IN {p.add(names, 'Array(String)')}")
    if since is not None:
        where.append(f"timestamp >= {p.add(since, 'DateTime64(6)')}")
    if until is not None:
        where.append(f"timestamp < {p.add(until, 'DateTime64(6)')}")
    return events_from(ch, project_id, p, where=" AND ".join(where), alias="e")


def _persons(person_ids: list[int] | None, p: Params) -> str:
    if person_ids is None:
        return ""
    return f" AND e.person_id IN {p.add(list(person_ids), 'Array(Int64)')}"


def _ids(sql: str, p: Params) -> list[int]:
    return [row[0] for row in client().query(sql, p)]


def count_persons(
    project_id: int,
    event: dict,
    *,
    since: datetime | None,
    until: datetime | None,
    operator: str,
    value: int,
    person_ids: list[int] | None,
    action_steps: ActionSteps,
) -> list[int]:
    p = Params()
    frm = _relation(
        project_id, [event], p, since=since, until=until, person_ids=person_ids, action_steps=action_steps
    )
    condition = event_spec(event, "e", p, action_steps=action_steps)
    return _ids(
        f"SELECT e.person_id FROM {frm} WHERE ({condition}){_persons(person_ids, p)}"
        f" GROUP BY e.person_id HAVING count() {_CMP[operator]} {p.add(value, 'Int64')}",
        p,
    )


def aggregate_persons(
    project_id: int,
    event: dict,
    *,
    since: datetime | None,
    until: datetime | None,
    prop: str,
    function: str,
    operator: str,
    value: int | float,
    person_ids: list[int] | None,
    action_steps: ActionSteps,
) -> list[int]:
    """`function` over the property's numbers (JSON numbers and numeric strings), as Decimal256(20).

    `avg` is sum / count in decimals (ClickHouse's own avg of decimals is a
    float); no numeric values at all gives NULL, which matches nothing.
    """
    p = Params()
    frm = _relation(
        project_id, [event], p, since=since, until=until, person_ids=person_ids, action_steps=action_steps
    )
    condition = event_spec(event, "e", p, action_steps=action_steps)
    number = json_number("e.properties", prop, p)
    if function == "avg":
        result = "sum(x) / toDecimal256(greatest(count(x), 1), 0)"
    else:
        result = {"sum": "sum(x)", "min": "min(x)", "max": "max(x)"}[function]
    return _ids(
        f"SELECT person_id FROM (SELECT e.person_id AS person_id, {number} AS x FROM {frm}"
        f" WHERE ({condition}){_persons(person_ids, p)})"
        f" GROUP BY person_id HAVING count(x) > 0"
        f" AND {number_compare(result, operator, value, p)}",
        p,
    )


def aggregate_partials(
    project_id: int,
    event: dict,
    *,
    since: datetime | None,
    until: datetime | None,
    prop: str,
    person_ids: list[int] | None,
    action_steps: ActionSteps,
) -> list[tuple]:
    """Per person: id, and the sum, count, min and max of the property's numbers (Decimal256(20)),
    all as text: they go on to PostgreSQL, which reads them exactly."""
    p = Params()
    frm = _relation(
        project_id, [event], p, since=since, until=until, person_ids=person_ids, action_steps=action_steps
    )
    condition = event_spec(event, "e", p, action_steps=action_steps)
    number = json_number("e.properties", prop, p)
    return client().query(
        "SELECT toString(person_id), toString(sum(x)), toString(count(x)), toString(min(x)), toString(max(x))"
        f" FROM (SELECT e.person_id AS person_id,"
        f" {number} AS x FROM {frm} WHERE ({condition}){_persons(person_ids, p)})"
        f" GROUP BY person_id HAVING count(x) > 0",
        p,
    )


def sequence_persons(
    project_id: int,
    steps: list[dict],
    *,
    within_days: int,
    since: datetime | None,
    until: datetime | None,
    person_ids: list[int] | None,
    action_steps: ActionSteps,
    first_until: datetime | None = None,
) -> list[int]:
    """Persons who did steps[0], then steps[1], … (strictly later each), all within `within_days` of the first.

    A chain starts only at a steps[0] event before `first_until` (None: any): the
    step's flag carries the bound, so windowFunnel and the exact path alike start
    chains there only.

    `windowFunnel` (one pass per person) gives exactly PostgreSQL's answer when
    each of the person's relevant events is at its own instant and matches one
    step: it keeps, per step, the latest start of a chain reaching it, which is
    PostgreSQL's rule. Otherwise (two events at one instant, or one event
    matching several steps) its order of processing loses chains, so those
    persons are computed again by `_sequence_exact`.
    """
    p = Params()
    if len(steps) == 1:
        frm = _relation(
            project_id, steps, p, since=since, until=until, person_ids=person_ids, action_steps=action_steps
        )
        flag = _step_flag(steps, 0, p, action_steps, first_until)
        return _ids(f"SELECT DISTINCT e.person_id FROM {frm} WHERE ({flag}){_persons(person_ids, p)}", p)
    relevant = _relevant(
        project_id, steps, p, since=since, until=until, person_ids=person_ids, action_steps=action_steps,
        first_until=first_until,
    )  # fmt: skip
    flags = ", ".join(f"m{i}" for i in range(len(steps)))
    several = " + ".join(f"toUInt8(m{i})" for i in range(len(steps)))
    window = p.add(within_days * _MICROS_PER_DAY, "UInt64")
    rows = client().query(
        f"SELECT person_id, windowFunnel({window}, 'strict_increase')(toUInt64(ts + {_SHIFT}), {flags})"
        f" = {len(steps)} AS done, count() != uniqExact(ts) OR max({several}) > 1 AS tied"
        f" FROM ({relevant}) GROUP BY person_id HAVING done OR tied",
        p,
    )
    found = [person for person, done, tied in rows if done and not tied]
    tied = [person for person, _, tied in rows if tied]
    if tied:
        found += _sequence_exact(
            project_id, steps, within_days=within_days, since=since, until=until, person_ids=tied,
            action_steps=action_steps, first_until=first_until,
        )  # fmt: skip
    return found


# windowFunnel takes unsigned times: microseconds shifted so that any date after year -144000 is positive
_SHIFT = "4611686018427387904"


def _step_flag(
    steps: list[dict], index: int, p: Params, action_steps: ActionSteps, first_until: datetime | None
) -> str:
    """The condition that an event `e` matches steps[index]; the first step also before `first_until`."""
    flag = event_spec(steps[index], "e", p, action_steps=action_steps)
    if index == 0 and first_until is not None:
        flag = f"({flag}) AND e.timestamp < {p.add(first_until, 'DateTime64(6)')}"
    return flag


def _relevant(
    project_id: int,
    steps: list[dict],
    p: Params,
    *,
    since: datetime | None,
    until: datetime | None,
    person_ids: list[int] | None,
    action_steps: ActionSteps,
    first_until: datetime | None = None,
) -> str:
    """(person_id, ts in µs, m0…mn: which steps the event matches) for events matching some step."""
    frm = _relation(
        project_id, steps, p, since=since, until=until, person_ids=person_ids, action_steps=action_steps
    )
    flags = [f"({_step_flag(steps, i, p, action_steps, first_until)}) AS m{i}" for i in range(len(steps))]
    any_step = " OR ".join(f"m{i}" for i in range(len(steps)))
    return (
        f"SELECT * FROM (SELECT e.person_id AS person_id, toUnixTimestamp64Micro(e.timestamp) AS ts,"
        f" {', '.join(flags)} FROM {frm} WHERE 1{_persons(person_ids, p)}) WHERE {any_step}"
    )


def _sequence_exact(
    project_id: int,
    steps: list[dict],
    *,
    within_days: int,
    since: datetime | None,
    until: datetime | None,
    person_ids: list[int],
    action_steps: ActionSteps,
    first_until: datetime | None = None,
) -> list[int]:
    """The PostgreSQL algorithm in window functions over microsecond timestamps, for any events.

    For each step k, the latest start of a chain reaching it is the max of step
    k-1's starts strictly earlier (a RANGE frame ending 1 µs before).
    """
    p = Params()
    sql = _relevant(
        project_id, steps, p, since=since, until=until, person_ids=person_ids, action_steps=action_steps,
        first_until=first_until,
    )  # fmt: skip
    sql = f"SELECT *, if(m0, toNullable(ts), NULL) AS s0 FROM ({sql})"
    for i in range(1, len(steps)):
        sql = (
            f"SELECT *, if(m{i}, max(s{i - 1}) OVER (PARTITION BY person_id ORDER BY ts"
            f" RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), NULL) AS s{i} FROM ({sql})"
        )
    last = len(steps) - 1
    window = p.add(within_days * _MICROS_PER_DAY, "Int64")
    return _ids(
        f"SELECT DISTINCT person_id FROM ({sql}) WHERE s{last} IS NOT NULL AND ts - s{last} <= {window}", p
    )


def survey_persons(
    project_id: int,
    *,
    survey: str,
    question: str,
    operator: str | None,
    value,
    person_ids: list[int] | None,
    until: datetime | None = None,
) -> list[int]:
    """Persons whose latest answer before `until` satisfies the filter (any answer: `operator` None).

    The latest answer is the one with the greatest (timestamp, uuid), the uuid
    compared as its text (which orders as PostgreSQL orders uuids).
    """
    p = Params()
    frm = _relation(
        project_id,
        [{"name": "$survey_response"}],
        p,
        since=None,
        until=until,
        person_ids=person_ids,
        action_steps=lambda _: [],
    )
    latest = (
        f"SELECT e.person_id AS person_id,"
        f" argMax(JSONExtractRaw(e.properties, '$answers'), (e.timestamp, toString(e.uuid))) AS answers"
        f" FROM {frm} WHERE ifNull({json_text('e.properties', '$survey', p)} = {p.add(survey, 'String')}, 0)"
        f" AND JSONHas(e.properties, '$answers', {p.add(question, 'String')}){_persons(person_ids, p)}"
        " GROUP BY e.person_id"
    )
    if operator is None:
        return _ids(f"SELECT person_id FROM ({latest})", p)
    flt = json_filter("a.answers", question, operator, value, p)
    return _ids(f"SELECT a.person_id FROM ({latest}) AS a WHERE {flt}", p)


def person_scores(
    project_id: int,
    event: dict,
    *,
    measure: str,
    prop: str | None,
    zone: str,
    since: datetime | None,
    until: datetime | None,
    action_steps: ActionSteps,
) -> list[tuple[int, Decimal]]:
    """(person id, score) for persons with a matching event in the window; see the facade for the scores.

    A sum is taken in Decimal256(20), as aggregate_persons does, and read back as
    text, so PostgreSQL receives the exact number.
    """
    p = Params()
    frm = _relation(
        project_id, [event], p, since=since, until=until, person_ids=None, action_steps=action_steps
    )
    condition = event_spec(event, "e", p, action_steps=action_steps)
    if measure == "sum":
        score = f"ifNull(sum({json_number('e.properties', prop, p)}), toDecimal256(0, 20))"
    elif measure == "active_days":
        score = f"uniqExact(toDate(e.timestamp, {p.add(zone, 'String')}))"
    else:
        score = "count()"
    rows = client().query(
        f"SELECT e.person_id, toString({score}) FROM {frm} WHERE ({condition}) GROUP BY e.person_id", p
    )
    return [(person, Decimal(score)) for person, score in rows]
