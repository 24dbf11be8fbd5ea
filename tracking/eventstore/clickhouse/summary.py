"""The overview's and the action pages' counts on ClickHouse.

Persons kept out by the traffic filter are chosen in PostgreSQL (sessions and
persons live there; the set is small: bots and internal users) and excluded by
id on the merged person id.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import connection

from tracking import elements as chain
from tracking.eventstore.clickhouse.client import ClickHouseUnavailable, Params, client
from tracking.eventstore.clickhouse.explore import SELECT_EVENT, as_uuid, moment, to_events
from tracking.eventstore.clickhouse.filters import action_where
from tracking.eventstore.clickhouse.reads import events_from
from tracking.eventstore.stored import StoredEvent
from tracking.eventstore.summary import ActivitySummary, ClickedTarget, MatchSummary

# ClickHouse's error for a statement past max_execution_time
_TIMEOUT = "TIMEOUT_EXCEEDED"


def excluded_ids(excluded: tuple[str, list] | None) -> list[int]:
    """Run the traffic filter's `SELECT person_id` in PostgreSQL."""
    if excluded is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(excluded[0], excluded[1])
        return [row[0] for row in cursor.fetchall()]


def _window(since: datetime, until: datetime | None, p: Params) -> str:
    where = f"timestamp >= {p.add(moment(since), 'DateTime64(6)')}"
    if until is not None:
        where += f" AND timestamp < {p.add(moment(until), 'DateTime64(6)')}"
    return where


def _target(alias: str, p: Params) -> str:
    # split_part(elements_chain, RS, 2): '' when there is no second part
    return f"splitByString({p.add(chain.RS, 'String')}, {alias}.elements_chain)[2]"


def activity_summary(
    project_id: int, *, since: datetime, zone: ZoneInfo, excluded: tuple[str, list] | None, top: int
) -> ActivitySummary:
    ch = client()
    left_out = excluded_ids(excluded)

    def relation(p: Params, name: str | None = None) -> str:
        where = _window(since, None, p)
        if name is not None:
            where += f" AND name = {p.add(name, 'String')}"
        rel = events_from(ch, project_id, p, where=where)
        return f"{rel} WHERE e.person_id NOT IN {p.add(left_out, 'Array(Int64)')}"

    summary = ActivitySummary()
    p = Params()
    tz = p.add(zone.key, "String")
    for day, events, persons in ch.query(
        f"SELECT toDate(e.timestamp, {tz}) AS day, count(), uniqExact(e.person_id) FROM {relation(p)}"
        " GROUP BY day",
        p,
    ):
        summary.per_day[day] = (int(events), int(persons))
    summary.events = sum(events for events, _ in summary.per_day.values())
    p = Params()
    summary.persons = int(ch.query(f"SELECT uniqExact(e.person_id) FROM {relation(p)}", p)[0][0])

    p = Params()
    summary.pages = [
        (path, int(n))
        for path, n in ch.query(
            f"SELECT e.path, count() AS n FROM {relation(p, '$pageview')} GROUP BY e.path"
            f" ORDER BY n DESC, e.path LIMIT {p.add(top, 'UInt64')}",
            p,
        )
    ]
    p = Params()
    rows = ch.query(
        f"SELECT {_target('e', p)} AS target, count() AS n, max(e.el_text),"
        f" argMax(e.uuid, (e.timestamp, toString(e.uuid)))"
        f" FROM {relation(p, '$autocapture')} GROUP BY target"
        f" ORDER BY n DESC, target LIMIT {p.add(top, 'UInt64')}",
        p,
    )
    summary.clicks = [
        ClickedTarget(target=target, count=int(n), text=text or "", example=as_uuid(example))
        for target, n, text, example in rows
    ]
    return summary


def match_counts(
    project_id: int, steps_list: list[list[dict]], since: datetime, until: datetime
) -> list[tuple[int, int]]:
    """(events, persons) per list of steps, in one pass over the window."""
    ch, p = client(), Params()
    conditions = [action_where(steps, "e", p) for steps in steps_list]
    columns = ", ".join(f"countIf({c}), uniqExactIf(e.person_id, {c})" for c in conditions)
    relation = events_from(ch, project_id, p, where=_window(since, until, p))
    row = ch.query(f"SELECT {columns} FROM {relation} WHERE {' OR '.join(conditions)}", p)[0]
    return [(int(row[2 * i]), int(row[2 * i + 1])) for i in range(len(conditions))]


def match_summary(
    project_id: int, steps: list[dict], since: datetime, until: datetime, *, limit: int, timeout_ms: int
) -> MatchSummary | None:
    """Totals, top clicked targets (with their text) and top pages; None past `timeout_ms`."""
    ch = client()
    seconds = max(1, timeout_ms // 1000)

    def run(select: str, tail: str = "") -> list[tuple]:
        p = Params()
        relation = events_from(ch, project_id, p, where=_window(since, until, p))
        sql = select.replace("TARGET", _target("e", p))
        return ch.query(
            f"SELECT {sql} FROM {relation} WHERE {action_where(steps, 'e', p)}{tail}"
            f" SETTINGS max_execution_time = {int(seconds)}",
            p,
        )

    try:
        events, persons = run("count(), uniqExact(e.person_id)")[0]
        elements = run(
            "TARGET AS target, e.el_text AS text, count() AS n",
            f" AND target != '' GROUP BY target, text ORDER BY n DESC, target, text LIMIT {int(limit)}",
        )
        pages = run(
            "e.path AS path, count() AS n", f" GROUP BY path ORDER BY n DESC, path LIMIT {int(limit)}"
        )
    except ClickHouseUnavailable as error:
        if _TIMEOUT not in str(error):
            raise
        return None
    return MatchSummary(
        events=int(events),
        persons=int(persons),
        elements=[(target, text or "", int(n)) for target, text, n in elements],
        pages=[(path or "", int(n)) for path, n in pages],
    )


def _matched(ch, project_id: int, steps: list[dict], p: Params) -> str:
    return f"{events_from(ch, project_id, p)} WHERE {action_where(steps, 'e', p)}"


def matched_events(project_id: int, steps: list[dict], *, offset: int, limit: int) -> list[StoredEvent]:
    """Matching events, newest first (ties by the uuid's text, as on PostgreSQL)."""
    ch, p = client(), Params()
    rows = ch.query(
        f"SELECT {SELECT_EVENT} FROM {_matched(ch, project_id, steps, p)}"
        f" ORDER BY e.timestamp DESC, toString(e.uuid) DESC"
        f" LIMIT {p.add(limit, 'UInt64')} OFFSET {p.add(offset, 'UInt64')}",
        p,
    )
    return to_events(rows)


def matched_count(project_id: int, steps: list[dict]) -> int:
    ch, p = client(), Params()
    return int(ch.query(f"SELECT count() FROM {_matched(ch, project_id, steps, p)}", p)[0][0])
