"""The segment compiler's event conditions, on either backend.

The compiler (segments.compiler) builds one PostgreSQL statement over persons
and keeps the boolean tree there; every condition on events comes from here as
a fragment `(sql, params)` selecting person ids, to embed as `p.id IN (…)`.

- PostgreSQL: an uncorrelated subquery over `tracking_event`
  (`postgres/segments.py`), planned together with the rest of the statement.
- ClickHouse: the condition runs in ClickHouse now (`clickhouse/segments.py`)
  and the fragment selects the ids found from an array (`ids_fragment`). The
  ids are persons with at least one matching event, as the subquery yields on
  PostgreSQL, so "zero satisfies" negations built by the compiler mean the same.
  Computing in ClickHouse and handing ids over (rather than sending persons to
  ClickHouse) keeps every condition one scan of events, whatever the tree.

Inputs are primitive: the window as [since, until) datetimes (None: open),
`person_ids` to restrict to (incremental refresh) or None, and `action_steps`,
a callable giving an action's steps by id.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable
from datetime import date, datetime

from tracking.eventstore import using_clickhouse
from tracking.eventstore.arrays import pg_array

Fragment = tuple[str, list]
ActionSteps = Callable[[int], list]


def ids_fragment(ids: Iterable[int]) -> Fragment:
    """Person (or company) ids found outside PostgreSQL, as a fragment selecting them.

    The array travels as its text form (`arrays.pg_array`). DISTINCT, though the
    ids are distinct already, is for the planner: without it, it guesses 200 ids
    for `p.id IN (…)` and probes an index once per id, 270 ms for 50,000 ids
    against 115 ms for the hash join it picks knowing how many there are.
    """
    return "SELECT DISTINCT unnest(%s::bigint[])", [pg_array(sorted(ids))]


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
) -> Fragment:
    """Persons with at least one event matching `event` in the window, whose number of them `operator` `value`.

    With the project's `zone`, PostgreSQL counts a bare event name's whole days from the
    daily rollup tracking.PersonEventDay and reads only the window's partial days' events.
    """
    kwargs = {
        "since": since, "until": until, "operator": operator, "value": value,
        "person_ids": person_ids, "action_steps": action_steps,
    }  # fmt: skip
    if not using_clickhouse():
        from tracking.eventstore.postgres.segments import count_persons as persons

        return persons(project_id, event, **kwargs, zone=zone)
    from tracking.eventstore.clickhouse.segments import count_persons as persons

    return ids_fragment(persons(project_id, event, **kwargs))


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
) -> Fragment:
    """Persons whose `function` (sum, avg, min, max) of `prop` over matching events `operator` `value`.

    Only numeric values count (JSON numbers and strings holding a plain decimal
    number, the meaning of sl_numeric); a person without any does not match.
    """
    kwargs = {
        "since": since, "until": until, "prop": prop, "function": function, "operator": operator,
        "value": value, "person_ids": person_ids, "action_steps": action_steps,
    }  # fmt: skip
    if not using_clickhouse():
        from tracking.eventstore.postgres.segments import aggregate_persons as persons

        return persons(project_id, event, **kwargs)
    from tracking.eventstore.clickhouse.segments import aggregate_persons as persons

    return ids_fragment(persons(project_id, event, **kwargs))


def aggregate_partials(
    project_id: int,
    event: dict,
    *,
    since: datetime | None,
    until: datetime | None,
    prop: str,
    person_ids: list[int] | None,
    action_steps: ActionSteps,
) -> Fragment:
    """Rows `(person_id, s, n, mn, mx)`: per person with numeric values of `prop` on matching
    events, their sum, how many, the least and the greatest (numbers as `aggregate_persons` reads them).

    Partials combine across persons (a company's sum is the sum of its people's
    sums, its average their summed sums over their summed counts), so the
    combination runs in PostgreSQL alike for both backends.
    """
    kwargs = {
        "since": since, "until": until, "prop": prop, "person_ids": person_ids, "action_steps": action_steps,
    }  # fmt: skip
    if not using_clickhouse():
        from tracking.eventstore.postgres.segments import aggregate_partials as partials

        return partials(project_id, event, **kwargs)
    from tracking.eventstore.clickhouse.segments import aggregate_partials as partials

    rows = partials(project_id, event, **kwargs)
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    return (
        "SELECT * FROM unnest(%s::bigint[], %s::numeric[], %s::bigint[], %s::numeric[], %s::numeric[])",
        [pg_array(column) for column in columns],
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
) -> Fragment:
    """Persons who did steps[0], then steps[1], … each strictly later, the last within `within_days` of the first.

    Only events in the window count. One step: did it in the window. With
    `first_until`, a chain starts only at a steps[0] event before it (its later
    steps may follow, up to `until`).
    """
    kwargs = {
        "within_days": within_days, "since": since, "until": until,
        "person_ids": person_ids, "action_steps": action_steps, "first_until": first_until,
    }  # fmt: skip
    if not using_clickhouse():
        from tracking.eventstore.postgres.segments import sequence_persons as persons

        return persons(project_id, steps, **kwargs)
    from tracking.eventstore.clickhouse.segments import sequence_persons as persons

    return ids_fragment(persons(project_id, steps, **kwargs))


def event_rows(
    project_id: int,
    event: dict,
    *,
    since: datetime | None,
    until: datetime | None,
    prop: str | None,
    action_steps: ActionSteps,
) -> Fragment | None:
    """`SELECT person_id, ts, x`: every event matching `event` in the window, with `prop` as a number (or NULL).

    For evaluating a condition at many moments in one pass (segments.sweep),
    on PostgreSQL only: None on ClickHouse, where such a pass would hand every
    matching event to PostgreSQL.
    """
    if using_clickhouse():
        return None
    from tracking.eventstore.postgres.segments import event_rows as rows

    return rows(project_id, event, since=since, until=until, prop=prop, action_steps=action_steps)


def name_day_buckets(
    project_id: int, name: str, *, days: list[date], los: list[int], his: list[int]
) -> Fragment | None:
    """`SELECT person_id, lo, hi, c`: per person, how many events named `name` on each of `days` (in the
    project's time zone) count at boundaries lo..hi, the day's `los` and `his` (segments.sweep, for days
    all of whose events count at the same boundaries). PostgreSQL reads them from its per-name daily
    rollup (tracking.PersonEventDay); None on ClickHouse, which keeps none."""
    if using_clickhouse():
        return None
    from tracking.eventstore.postgres.segments import name_day_buckets as buckets

    return buckets(project_id, name, days=days, los=los, his=his)


def name_first_day(project_id: int, name: str) -> Fragment | None:
    """`SELECT min(day)`: the first day of `name` in the per-name daily rollup; None on ClickHouse."""
    if using_clickhouse():
        return None
    from tracking.eventstore.postgres.segments import name_first_day as first

    return first(project_id, name)


def name_events_at(project_id: int, name: str, moments: list[datetime]) -> Fragment | None:
    """`SELECT person_id, timestamp`: the events named `name` at exactly one of `moments` (segments.sweep);
    None on ClickHouse."""
    if using_clickhouse():
        return None
    from tracking.eventstore.postgres.segments import name_events_at as at

    return at(project_id, name, moments)


def sequence_chains(
    project_id: int,
    steps: list[dict],
    *,
    within_days: int,
    since: datetime | None,
    until: datetime | None,
    action_steps: ActionSteps,
) -> Fragment | None:
    """`SELECT person_id, ts, start`: each event completing the sequence in the window, with the latest start
    of a chain it completes (what `sequence_persons` selects persons by). PostgreSQL only, as `event_rows`."""
    if using_clickhouse():
        return None
    from tracking.eventstore.postgres.segments import sequence_chains as chains

    return chains(
        project_id, steps, within_days=within_days, since=since, until=until, person_ids=None,
        action_steps=action_steps,
    )  # fmt: skip


def survey_answers(project_id: int, *, survey: str, question: str, until: datetime) -> Fragment | None:
    """`SELECT person_id, ts, answers`: each moment a person's latest answer to the question changed (the
    answers then), before `until`. PostgreSQL only, as `event_rows`."""
    if using_clickhouse():
        return None
    from tracking.eventstore.postgres.segments import survey_answers as answers

    return answers(project_id, survey=survey, question=question, until=until)


def survey_persons(
    project_id: int,
    *,
    survey: str,
    question: str,
    operator: str | None,
    value,
    person_ids: list[int] | None,
    until: datetime | None = None,
) -> Fragment:
    """Persons whose latest answer to `question` of `survey` satisfies the filter (`operator` None: answered).

    Latest: the greatest (timestamp, uuid) on both backends, so ties resolve alike;
    only answers before `until` count (None: all).
    """
    kwargs = {
        "survey": survey, "question": question, "operator": operator, "value": value,
        "person_ids": person_ids, "until": until,
    }  # fmt: skip
    if not using_clickhouse():
        from tracking.eventstore.postgres.segments import survey_persons as persons

        return persons(project_id, **kwargs)
    from tracking.eventstore.clickhouse.segments import survey_persons as persons

    return ids_fragment(persons(project_id, **kwargs))


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
) -> Fragment:
    """`(person_id, score)` rows, one per person with at least one event matching `event` in the window.

    The score (numeric) is what a rank condition orders persons by: `count`, the
    number of matching events; `sum`, the total of `prop` over them (JSON numbers
    and numeric strings, the meaning of sl_numeric; other values are skipped, so
    a person whose matching events carry no number scores 0); `active_days`, the
    number of distinct days, in the time zone `zone`, on which they did it.
    On ClickHouse the scores are computed there and handed over as arrays.
    """
    kwargs = {
        "measure": measure, "prop": prop, "zone": zone, "since": since, "until": until,
        "action_steps": action_steps,
    }  # fmt: skip
    if not using_clickhouse():
        from tracking.eventstore.postgres.segments import person_scores as scores

        return scores(project_id, event, **kwargs)
    from tracking.eventstore.clickhouse.segments import person_scores as scores

    rows = scores(project_id, event, **kwargs)
    return (
        "SELECT * FROM unnest(%s::bigint[], %s::numeric[]) AS s (person_id, score)",
        [pg_array(person for person, _ in rows), pg_array(score for _, score in rows)],
    )
