"""The segment compiler's event conditions on PostgreSQL: subqueries over `tracking_event`.

Each function returns `(sql, params)`: an uncorrelated SELECT of person ids that
the compiler embeds as `p.id IN (…)`, so PostgreSQL computes it once and hashes
it (or turns it into a semi-join at the top of the tree).

Indexes each construct relies on:
- a condition with an event name: event_project_name_ts (project_id, name,
  timestamp) — name equality plus the time window;
- the same restricted to persons (incremental refresh passes `person_ids`):
  event_project_person_ts (project_id, person_id, timestamp), so the cost grows
  with the touched persons' events, not with history.

Values are always %s parameters; the SQL text is built only from constants.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

from tracking.eventstore.days import day_start
from tracking.matching.actions import action_where_sql
from tracking.properties import compare_sql, event_filter_sql, jsonb_filter_sql

ActionSteps = Callable[[int], list]
AGGREGATES = {"sum": "sum", "avg": "avg", "min": "min", "max": "max"}


def event_sql(spec: dict, action_steps: ActionSteps) -> tuple[str, list]:
    """A boolean over events aliased `e` for an event spec (name + where, or an action)."""
    if "action" in spec:
        return action_where_sql(action_steps(spec["action"]), alias="e")
    parts, params = ["e.name = %s"], [spec["name"]]
    for flt in spec.get("where", []):
        sql, p = event_filter_sql("e", flt["property"], flt["operator"], flt["value"])
        parts.append(sql)
        params.extend(p)
    return " AND ".join(parts), params


def _restrict(column: str, person_ids: list[int] | None) -> tuple[str, list]:
    if person_ids is None:
        return "", []
    return f" AND {column} = ANY(%s::bigint[])", [person_ids]


def _events_from(
    project_id: int,
    where: str,
    params: list,
    since: datetime | None,
    until: datetime | None,
    person_ids: list[int] | None,
) -> tuple[str, list]:
    """`FROM tracking_event e WHERE project AND <where> AND <window> AND <persons>`."""
    w_sql, w_params = "", []
    if since is not None:
        w_sql += " AND e.timestamp >= %s"
        w_params.append(since)
    if until is not None:
        w_sql += " AND e.timestamp < %s"
        w_params.append(until)
    r_sql, r_params = _restrict("e.person_id", person_ids)
    return (
        f"FROM tracking_event e WHERE e.project_id = %s AND ({where}){w_sql}{r_sql}",
        [project_id, *params, *w_params, *r_params],
    )


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
    zone: zoneinfo.ZoneInfo | None = None,
) -> tuple[str, list]:
    days = _whole_days(event, since, until, person_ids, zone)
    if days is not None:
        return _count_from_days(project_id, event["name"], since, until, days, operator, value)
    where, params = event_sql(event, action_steps)
    frm, frm_params = _events_from(project_id, where, params, since, until, person_ids)
    return (
        f"SELECT e.person_id {frm} GROUP BY e.person_id HAVING count(*) {compare_sql(operator)} %s",
        [*frm_params, value],
    )


def _whole_days(
    event: dict,
    since: datetime | None,
    until: datetime | None,
    person_ids: list[int] | None,
    zone: zoneinfo.ZoneInfo | None,
) -> tuple[date | None, date | None, datetime | None, datetime | None] | None:
    """The window's whole days in the project's time zone, when counting can read them from the
    rollup (tracking.PersonEventDay): `(first day, day after the last, where the first begins,
    where the day after the last begins)`, None for no bound; None when it cannot.

    Only a bare event name has per-name counts (a property filter or an action needs the events),
    and only a full computation gains: a refresh of a few persons reads their events by person.
    """
    if (
        zone is None
        or person_ids is not None
        or "name" not in event
        or "action" in event
        or event.get("where")
    ):
        return None
    first = begins = None
    if since is not None:
        first = since.astimezone(zone).date()
        begins = day_start(first, zone)
        if begins < since:  # the window starts inside that day: only the next one is whole
            first += timedelta(days=1)
            begins = day_start(first, zone)
    after = ends = None
    if until is not None:
        after = until.astimezone(zone).date()  # the day `until` falls in is not whole (it ends before)
        ends = day_start(after, zone)
    if first is not None and after is not None and first >= after:
        return None  # no whole day inside: the events alone
    return first, after, begins, ends


def _count_from_days(
    project_id: int,
    name: str,
    since: datetime | None,
    until: datetime | None,
    days: tuple,
    operator: str,
    value: int,
) -> tuple[str, list]:
    """Whole days from the rollup, plus the events of the partial days at either end of the window.

    Each side is counted per person on its own and the two are joined: PostgreSQL estimates
    the persons of one table's GROUP BY from its statistics, but has none for a UNION ALL of
    both and guessed 200 persons where 55,000 matched, then probed tracking_person row by row.
    """
    (rollup, rollup_params), edges = _day_parts(project_id, name, since, until, days)
    cmp = compare_sql(operator)
    if not edges:
        return (
            f"SELECT c.person_id FROM ({rollup}) c GROUP BY c.person_id HAVING sum(c.n) {cmp} %s",
            [*rollup_params, value],
        )
    edge_sql = " UNION ALL ".join(sql for sql, _ in edges)
    edge_params = [p for _, params in edges for p in params]
    return (
        "SELECT coalesce(r.person_id, x.person_id) AS person_id"
        f" FROM (SELECT c.person_id, sum(c.n) AS n FROM ({rollup}) c GROUP BY c.person_id) r"
        f" FULL JOIN (SELECT c.person_id, sum(c.n) AS n FROM ({edge_sql}) c GROUP BY c.person_id) x"
        f" ON x.person_id = r.person_id WHERE coalesce(r.n, 0) + coalesce(x.n, 0) {cmp} %s",
        [*rollup_params, *edge_params, value],
    )


def _day_rows(parts: tuple[tuple[str, list], list[tuple[str, list]]]) -> tuple[str, list]:
    """`_day_parts` as one `SELECT person_id, n[, day]` whose `n` add up to each person's count."""
    (rollup, params), edges = parts
    for _, more in edges:
        params = [*params, *more]
    return " UNION ALL ".join([rollup, *(sql for sql, _ in edges)]), params


def _day_parts(
    project_id: int,
    name: str,
    since: datetime | None,
    until: datetime | None,
    days: tuple,
    *,
    zone: str | None = None,
) -> tuple[tuple[str, list], list[tuple[str, list]]]:
    """The rows whose `n` add up to each person's count of `name` in the window, as the rollup's
    `SELECT person_id, n[, day]` (a row per whole day) and one SELECT per partial day at either end
    of the window (a row per event; with `zone`, each row's day in it too, for counting distinct days)."""
    first, after, begins, ends = days
    day_sql = ", d.day" if zone else ""
    d_sql, d_params = "", []
    if first is not None:
        d_sql, d_params = " AND d.day >= %s", [first]
    if after is not None:
        d_sql, d_params = d_sql + " AND d.day < %s", [*d_params, after]
    # relies on person_event_day_name (project_id, name, day) INCLUDE (person_id, events)
    rollup = (
        f"SELECT d.person_id, d.events AS n{day_sql} FROM tracking_personeventday d"
        f" WHERE d.project_id = %s AND d.name = %s{d_sql}",
        [project_id, name, *d_params],
    )
    edges = []
    # relies on event_project_name_ts (project_id, name, timestamp)
    for start, end in ((since, begins), (ends, until)):
        if start is None or start == end:
            continue
        e_sql, e_params = " AND e.timestamp >= %s", [start]
        if end is not None:
            e_sql, e_params = e_sql + " AND e.timestamp < %s", [start, end]
        e_day, e_day_params = (", (e.timestamp AT TIME ZONE %s)::date", [zone]) if zone else ("", [])
        edges.append(
            (
                f"SELECT e.person_id, 1 AS n{e_day} FROM tracking_event e"
                f" WHERE e.project_id = %s AND e.name = %s{e_sql}",
                [*e_day_params, project_id, name, *e_params],
            )
        )
    return rollup, edges


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
) -> tuple[str, list]:
    where, params = event_sql(event, action_steps)
    frm, frm_params = _events_from(project_id, where, params, since, until, person_ids)
    # no numeric values at all -> NULL aggregate -> no match, whatever the comparison
    return (
        f"SELECT e.person_id {frm} GROUP BY e.person_id"
        f" HAVING {AGGREGATES[function]}(sl_numeric(e.properties -> %s)) {compare_sql(operator)} %s",
        [*frm_params, prop, Decimal(str(value))],
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
) -> tuple[str, list]:
    where, params = event_sql(event, action_steps)
    frm, frm_params = _events_from(project_id, where, params, since, until, person_ids)
    # OFFSET 0 keeps the subquery whole: flattened, the planner would copy the value's
    # extraction into each of the five aggregates and read the JSON five times a row.
    return (
        "SELECT person_id, sum(x), count(x), min(x), max(x)"
        f" FROM (SELECT e.person_id, sl_numeric(e.properties -> %s) AS x {frm} OFFSET 0) v"
        " GROUP BY person_id HAVING count(x) > 0",
        [prop, *frm_params],
    )


def sequence_chains(
    project_id: int,
    steps: list[dict],
    *,
    within_days: int,
    since: datetime | None,
    until: datetime | None,
    person_ids: list[int] | None,
    action_steps: ActionSteps,
    first_until: datetime | None = None,
) -> tuple[str, list]:
    """`SELECT person_id, ts, start`: each event that completes steps[0], then steps[1], … (strictly later each),
    all within `within_days` of the first, with the latest start (`steps[0]` event) of such a chain.

    One pass over the persons' relevant events ordered by time: for each step k,
    the latest possible start of a chain reaching it is the max of step k-1's
    starts strictly earlier — the latest start leaves the most room for the
    deadline, so checking it suffices. A single step is "did it in the window".
    A chain starts only at a steps[0] event before `first_until` (None: any).
    """
    compiled = [event_sql(step, action_steps) for step in steps]
    if first_until is not None:
        first_sql, first_params = compiled[0]
        compiled[0] = (f"({first_sql}) AND e.timestamp < %s", [*first_params, first_until])
    if len(steps) == 1:
        where, params = compiled[0]
        frm, frm_params = _events_from(project_id, where, params, since, until, person_ids)
        return f"SELECT e.person_id, e.timestamp AS ts, e.timestamp AS start {frm}", frm_params
    flags = [f"({sql}) AS m{i}" for i, (sql, _) in enumerate(compiled)]
    params = [v for _, p in compiled for v in p]
    any_step = " OR ".join(f"({sql})" for sql, _ in compiled)
    any_params = list(params)
    names = [step["name"] for step in steps if "name" in step]
    if len(names) == len(steps) and person_ids is None:
        # One `name = ANY(…)` lets the planner use event_project_name_ts (an OR of
        # per-step conditions forces reading the table). Not for a refresh of a few
        # persons: there event_project_person_ts is the index to use, and the hint
        # would steer the planner to the name index over all of history.
        any_step, any_params = f"e.name = ANY(%s) AND ({any_step})", [sorted(set(names)), *any_params]
    frm, frm_params = _events_from(project_id, any_step, any_params, since, until, person_ids)
    sql = f"SELECT e.person_id, e.timestamp AS ts, {', '.join(flags)} {frm}"
    all_params = [*params, *frm_params]
    sql = f"SELECT *, CASE WHEN m0 THEN ts END AS s0 FROM ({sql}) l"
    for i in range(1, len(steps)):
        sql = (
            f"SELECT *, CASE WHEN m{i} THEN max(s{i - 1}) OVER (PARTITION BY person_id ORDER BY ts"
            f" RANGE BETWEEN UNBOUNDED PRECEDING AND '1 microsecond'::interval PRECEDING) END AS s{i}"
            f" FROM ({sql}) l{i}"
        )
    last = len(steps) - 1
    sql = f"SELECT person_id, ts, s{last} AS start FROM ({sql}) f WHERE s{last} IS NOT NULL AND ts - s{last} <= %s"
    return sql, [*all_params, timedelta(days=within_days)]


def sequence_persons(project_id: int, steps: list[dict], **kwargs) -> tuple[str, list]:
    """The persons of `sequence_chains`: who completed the sequence in the window."""
    sql, params = sequence_chains(project_id, steps, **kwargs)
    return f"SELECT person_id FROM ({sql}) c", params


def event_rows(
    project_id: int,
    event: dict,
    *,
    since: datetime | None,
    until: datetime | None,
    prop: str | None,
    action_steps: ActionSteps,
) -> tuple[str, list]:
    """`SELECT person_id, ts, x` for every event matching `event` in the window (x: `prop` as a number, or NULL)."""
    where, params = event_sql(event, action_steps)
    frm, frm_params = _events_from(project_id, where, params, since, until, None)
    if prop is None:
        return f"SELECT e.person_id, e.timestamp, NULL::numeric {frm}", frm_params
    return f"SELECT e.person_id, e.timestamp, sl_numeric(e.properties -> %s) {frm}", [prop, *frm_params]


def name_day_buckets(
    project_id: int, name: str, *, days: list[date], los: list[int], his: list[int]
) -> tuple[str, list]:
    """`SELECT person_id, lo, hi, c`: per person, how many `name` events of `days` (from the per-name
    rollup) count from boundary lo to hi, each day's given in `los` and `his`."""
    # relies on person_event_day_name (project_id, name, day) INCLUDE (person_id, events)
    return (
        "SELECT d.person_id, v.lo, v.hi, sum(d.events)::int FROM tracking_personeventday d"
        " JOIN unnest(%s::date[], %s::int[], %s::int[]) AS v (day, lo, hi) ON v.day = d.day"
        " WHERE d.project_id = %s AND d.name = %s AND d.day >= %s AND d.day <= %s GROUP BY 1, 2, 3",
        [days, los, his, project_id, name, min(days), max(days)],
    )


def name_first_day(project_id: int, name: str) -> tuple[str, list]:
    """`SELECT min(day)`: the first day with a `name` event in the per-name rollup (NULL: none)."""
    return (
        "SELECT min(d.day) FROM tracking_personeventday d WHERE d.project_id = %s AND d.name = %s",
        [project_id, name],
    )


def name_events_at(project_id: int, name: str, moments: list[datetime]) -> tuple[str, list]:
    """`SELECT person_id, timestamp` of the `name` events at exactly one of `moments`."""
    # relies on event_project_name_ts (project_id, name, timestamp)
    return (
        "SELECT e.person_id, e.timestamp FROM tracking_event e"
        " WHERE e.project_id = %s AND e.name = %s AND e.timestamp = ANY(%s::timestamptz[])",
        [project_id, name, moments],
    )


# a project's responses to one survey that answer one question: %s project, survey, question
_RESPONSES = (
    "FROM tracking_event e WHERE e.project_id = %s AND e.name = '$survey_response'"
    " AND e.properties ->> '$survey' = %s AND coalesce((e.properties -> '$answers') ? %s, false)"
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
) -> tuple[str, list]:
    """Persons whose latest answer before `until` satisfies the filter (any answer: `operator` None).

    The latest answer is the one with the greatest (timestamp, uuid): the same
    tie rule as on ClickHouse, which has no serial id.
    """
    r_sql, r_params = _restrict("e.person_id", person_ids)
    if until is not None:
        r_sql, r_params = f" AND e.timestamp < %s{r_sql}", [until, *r_params]
    latest = (
        f"SELECT DISTINCT ON (e.person_id) e.person_id, e.properties -> '$answers' AS answers {_RESPONSES}"
        f"{r_sql} ORDER BY e.person_id, e.timestamp DESC, e.uuid DESC"
    )
    params = [project_id, survey, question, *r_params]
    if operator is None:
        return f"SELECT person_id FROM ({latest}) a", params
    flt, flt_params = jsonb_filter_sql("a.answers", question, operator, value)
    return f"SELECT a.person_id FROM ({latest}) a WHERE {flt}", [*params, *flt_params]


def survey_answers(project_id: int, *, survey: str, question: str, until: datetime) -> tuple[str, list]:
    """`SELECT person_id, ts, answers`: per person and moment before `until`, the answers (to `survey`, with
    `question` answered) that are the latest from then on until the person's next answer: of answers at
    the same moment, the greatest uuid's, as `survey_persons` orders them."""
    return (
        "SELECT DISTINCT ON (e.person_id, e.timestamp) e.person_id, e.timestamp, e.properties -> '$answers'"
        f" {_RESPONSES} AND e.timestamp < %s ORDER BY e.person_id, e.timestamp, e.uuid DESC",
        [project_id, survey, question, until],
    )


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
) -> tuple[str, list]:
    """`SELECT person_id, score` (numeric) for persons with a matching event in the window.

    Relies on event_project_name_ts for a named event, as count_persons does; a count or the
    active days of a bare event name read the window's whole days from the per-name rollup.
    """
    if measure in ("count", "active_days"):
        days = _whole_days(event, since, until, None, zoneinfo.ZoneInfo(zone))
        if days is not None:
            if measure == "count":
                rows, params = _day_rows(_day_parts(project_id, event["name"], since, until, days))
                score = "sum(c.n)::numeric"
            else:
                rows, params = _day_rows(_day_parts(project_id, event["name"], since, until, days, zone=zone))
                score = "count(DISTINCT c.day)::numeric"
            return f"SELECT c.person_id, {score} AS score FROM ({rows}) c GROUP BY c.person_id", params
    where, params = event_sql(event, action_steps)
    frm, frm_params = _events_from(project_id, where, params, since, until, None)
    if measure == "sum":
        score, score_params = "coalesce(sum(sl_numeric(e.properties -> %s)), 0)", [prop]
    elif measure == "active_days":
        score, score_params = "count(DISTINCT (e.timestamp AT TIME ZONE %s)::date)::numeric", [zone]
    else:
        score, score_params = "count(*)::numeric", []
    return (
        f"SELECT e.person_id, {score} AS score {frm} GROUP BY e.person_id",
        [*score_params, *frm_params],
    )
