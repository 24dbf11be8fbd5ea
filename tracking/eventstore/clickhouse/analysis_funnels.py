"""Funnel levels on ClickHouse: each entrant's furthest step, with PostgreSQL's meaning to the microsecond.

The matching events of each person (one bit per step they match) are gathered
into one array sorted by time, and the chain is walked with array functions in
the steps of the PostgreSQL statement (tracking.eventstore.postgres.analysis_funnels):
at an event matching step k, s_k is the latest start of a chain reaching step
k-1 at a strictly earlier time. Those starts never decrease along the array,
so "the latest over the earlier events" is "the last one set before this
timestamp": `arrayFill` carries it forward, shifted by one event and held for
the events that share a timestamp. A person reaches step k when some s_k is at
most the window before its event.

`windowFunnel` is not used: with 'strict_increase' it chains from the most
recent step-(k-1) event only, so a step-1 repeat at the same microsecond as a
step-2 event hides an earlier start PostgreSQL counts.

The levels (a row per entrant) go back to PostgreSQL as an unnest relation, where
the breakdowns join sessions, persons and companies; counted without a breakdown
or per segment (`counts_relation`), only the counts go back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tracking.eventstore.arrays import MICROS, unnest_sql, values_sql
from tracking.eventstore.clickhouse.analysis_common import (
    excluded_condition,
    in_groups,
    micros,
    moment,
    step_condition,
    step_names,
)
from tracking.eventstore.clickhouse.client import Params, client
from tracking.eventstore.clickhouse.reads import events_from


def _chain(n: int, window: str) -> tuple[list[str], str]:
    """The per-person array columns s0…s(n-1) and the level they give (1…n)."""
    columns = [
        # the times in order and the step bits in the same order (within a timestamp any order will do)
        "arraySort(groupArray(t)) AS ts",
        "arraySort((m_, t_) -> t_, groupArray(mask), groupArray(t)) AS ms",
        # the first event of each timestamp: where "strictly earlier" moves on
        "arrayMap((d_, i_) -> i_ = 1 OR d_ != 0, arrayDifference(ts), arrayEnumerate(ts)) AS fresh",
        "arrayMap((x_, m_) -> if(bitTest(m_, 0), x_, -1), ts, ms) AS s0",
    ]
    for i in range(1, n):
        earlier = f"arrayFill((v_, f_) -> f_, arrayPushFront(arrayPopBack(arrayFill(v_ -> v_ >= 0, s{i - 1})), -1), fresh)"
        columns.append(f"arrayMap((m_, v_) -> if(bitTest(m_, {i}), v_, -1), ms, {earlier}) AS s{i}")
    reached = ", ".join(
        f"arrayExists((x_, v_) -> v_ >= 0 AND x_ - v_ <= {window}, ts, s{i}), {i + 1}"
        for i in range(n - 1, 0, -1)
    )
    return columns, f"multiIf({reached}, 1)" if n > 1 else "1"


def _levels_query(
    *,
    project_id: int,
    steps: list[dict | None],
    within: timedelta,
    start: datetime,
    end: datetime,
    with_session: bool,
    excluded: tuple[str, list] | None,
    p: Params,
) -> str:
    """The ClickHouse statement of `person_id, level, entered_at (micros)[, session_key]`, one row per entrant."""
    ch = client()
    where = f"timestamp >= {moment(start, p)} AND timestamp < {moment(end + within, p)}"
    names = [step_names(step) for step in steps]
    if all(names):
        where += f" AND name IN {p.add(sorted({n for group in names for n in group}), 'Array(String)')}"  # type: ignore[union-attr]
    end_at = moment(end, p)
    bits = [f"toUInt32({step_condition(steps[0], 'e', p)} AND e.timestamp < {end_at})"]
    bits += [f"toUInt32({step_condition(step, 'e', p)}) * {1 << i}" for i, step in enumerate(steps) if i]
    counted = excluded_condition("e.person_id", excluded, p)
    matched = (
        "SELECT e.person_id AS person_id, toUnixTimestamp64Micro(e.timestamp) AS t,"
        f" e.session_key AS session_key, {' + '.join(bits)} AS mask"
        f" FROM {events_from(ch, project_id, p, where=where)} WHERE {counted}"
    )
    columns, level = _chain(len(steps), p.add(micros(within), "Int64"))
    session = ", argMinIf(session_key, t, bitTest(mask, 0)) AS session_key" if with_session else ""
    return (
        f"SELECT person_id, level, entered_at{', session_key' if with_session else ''} FROM ("
        f"SELECT person_id, {', '.join(columns)}, {level} AS level, minIf(t, bitTest(mask, 0)) AS entered_at{session}"
        f" FROM ({matched}) WHERE mask != 0 GROUP BY person_id HAVING countIf(bitTest(mask, 0)) > 0)"
    )


def levels_relation(
    *,
    project_id: int,
    steps: list[dict | None],
    within: timedelta,
    start: datetime,
    end: datetime,
    with_session: bool = False,
    excluded: tuple[str, list] | None = None,
) -> tuple[str, list]:
    p = Params()
    levels = _levels_query(
        project_id=project_id, steps=steps, within=within, start=start, end=end,
        with_session=with_session, excluded=excluded, p=p,
    )  # fmt: skip
    rows = client().query_table(levels, p)
    columns_pg = [("person_id", "bigint"), ("level", "int"), ("entered_at", MICROS)]
    if with_session:
        columns_pg.append(("session_key", "text"))
    return unnest_sql(columns_pg, rows)


def counts_relation(
    *,
    project_id: int,
    steps: list[dict | None],
    within: timedelta,
    start: datetime,
    end: datetime,
    excluded: tuple[str, list] | None = None,
    groups: tuple[str, list] | None = None,
    samples: int,
) -> tuple[str, list]:
    """The counts per group, counted in ClickHouse: a PostgreSQL relation of a few rows.

    Each entrant is counted once in the total (group NULL) and once in each of
    its groups (`in_groups`), in one pass over the levels.
    """
    ch, p = client(), Params()
    levels = _levels_query(
        project_id=project_id, steps=steps, within=within, start=start, end=end,
        with_session=False, excluded=excluded, p=p,
    )  # fmt: skip
    n = len(steps)
    counts = [f"countIf(level >= {k})" for k in range(1, n + 1)]
    counts += [f"groupArrayIf({int(samples)})(person_id, level = {k})" for k in range(1, n)]
    grouped, sent = in_groups(ch, levels, ("person_id", "level"), groups)
    statement = f"SELECT grp, {', '.join(counts)} FROM ({grouped}) GROUP BY grp"
    rows = ch.query(statement, p, rows=sent)
    if not rows:
        rows = [(0, *([0] * n), *([[]] * (n - 1)))]
    columns = [
        ("group_id", "bigint"), *((f"reached{k}", "bigint") for k in range(1, n + 1)),
        *((f"stopped{k}", "bigint[]") for k in range(1, n)),
    ]  # fmt: skip
    return values_sql(
        columns,
        [
            (None if row[0] == 0 else row[0], *row[1 : n + 1], *(list(ids) for ids in row[n + 1 :]))
            for row in rows
        ],
    )
