"""Path steps on ClickHouse: each person's first anchor, then that session's steps as one sorted array.

Two reads of the range: the first anchor per person (`argMin` by time, then
uuid), and the anchor session's events on its side. Per person, the events
sorted by (timestamp, uuid) are folded as in PostgreSQL (a repeat of the label
before it is dropped unless it is an anchor after a non-anchor), and the three
labels next to the anchor are read off the folded array. PostgreSQL orders
events of one microsecond by id, ClickHouse by uuid: only such ties can differ.
"""

from __future__ import annotations

from datetime import datetime

from tracking.eventstore.arrays import unnest_sql
from tracking.eventstore.clickhouse.analysis_common import (
    excluded_condition,
    in_groups,
    moment,
    step_condition,
)
from tracking.eventstore.clickhouse.client import Params, client
from tracking.eventstore.clickhouse.reads import events_from

_LABEL = (
    "multiIf(e.name = '$pageview', if(e.path != '', e.path, e.url),"
    " e.name = '$autocapture' AND e.el_text != '', concat('click “', leftUTF8(e.el_text, 60), '”'), e.name)"
)
COLUMNS = (("person_id", "bigint"), ("s1", "text"), ("s2", "text"), ("s3", "text"))


def _steps(
    *,
    project_id: int,
    start: datetime,
    end: datetime,
    anchor: dict | None,
    start_path: str | None,
    pageviews_only: bool,
    skipped: tuple[str, ...],
    forward: bool,
    excluded: tuple[str, list] | None = None,
) -> tuple[str, Params]:
    """The ClickHouse statement of `person_id, s1, s2, s3`, and its parameters."""
    ch, p = client(), Params()
    if start_path is not None:
        anchor_sql = f"(e.name = '$pageview' AND e.path = {p.add(start_path, 'String')})"
    else:
        anchor_sql = step_condition(anchor, "e", p)
    if pageviews_only:
        kinds = f"(e.name = '$pageview' OR {anchor_sql})"
    else:
        kinds = f"NOT has({p.add(list(skipped), 'Array(String)')}, e.name)"
    where = f"timestamp >= {moment(start, p)} AND timestamp < {moment(end, p)}"
    counted = excluded_condition("e.person_id", excluded, p)
    anchors = (
        "SELECT person_id, a.1 AS session_key, a.2 AS ts, a.3 AS uuid FROM ("
        "SELECT e.person_id AS person_id, argMin((e.session_key, e.timestamp, e.uuid), (e.timestamp, e.uuid)) AS a"
        f" FROM {events_from(ch, project_id, p, where=where)} WHERE {anchor_sql} AND {counted} GROUP BY person_id)"
    )
    side = ">=" if forward else "<="
    events = (
        f"SELECT e.person_id AS person_id, (e.timestamp, e.uuid, {_LABEL}, {anchor_sql}, e.uuid = a.uuid) AS x"
        f" FROM {events_from(ch, project_id, p, where=where)}"
        f" INNER JOIN ({anchors}) AS a ON a.person_id = e.person_id AND a.session_key = e.session_key"
        f" WHERE e.timestamp {side} a.ts AND {kinds}"
    )
    offsets = (1, 2, 3) if forward else (-1, -2, -3)
    steps = ", ".join(
        f"if(pos + {k} BETWEEN 1 AND length(kept), tupleElement(kept[pos + {k}], 3), NULL) AS s{i}"
        for i, k in enumerate(offsets, start=1)
    )
    statement = (
        "SELECT person_id, s1, s2, s3 FROM ("
        "SELECT person_id, arraySort(x_ -> (x_.1, x_.2), groupArray(x)) AS evs,"
        " arrayMap(x_ -> x_.3, evs) AS labels, arrayMap(x_ -> x_.4, evs) AS starts,"
        " arrayMap((l_, s_, pl_, ps_, i_) -> i_ = 1 OR l_ != pl_ OR (s_ AND NOT ps_), labels, starts,"
        " arrayPushFront(arrayPopBack(labels), ''), arrayPushFront(arrayPopBack(starts), false), arrayEnumerate(labels)"
        ") AS keep,"
        " arrayFilter((x_, k_) -> k_, evs, keep) AS kept,"
        f" arrayFirstIndex(x_ -> x_.5, kept) AS pos, {steps}"
        f" FROM ({events}) GROUP BY person_id) WHERE pos > 0"
    )
    return statement, p


def steps_relation(**args) -> tuple[str, list]:
    statement, p = _steps(**args)
    return unnest_sql(COLUMNS, client().query_table(statement, p))


COUNT_COLUMNS = (
    ("group_id", "bigint"), ("depth", "int"), ("s1", "text"), ("s2", "text"), ("s3", "text"), ("persons", "bigint"),
)  # fmt: skip


def counts_relation(*, groups: tuple[str, list], **args) -> tuple[str, list]:
    """The steps counted per prefix and group in ClickHouse, the groups' members sent as a table."""
    ch = client()
    statement, p = _steps(**args)
    grouped, sent = in_groups(ch, statement, ("person_id", "s1", "s2", "s3"), groups)
    # each person once per group and per depth, the steps past the depth blanked
    counted = (
        "SELECT grp, depth, if(depth >= 1, s1, NULL) AS k1, if(depth >= 2, s2, NULL) AS k2,"
        f" if(depth >= 3, s3, NULL) AS k3, count() FROM ({grouped}) ARRAY JOIN [0, 1, 2, 3] AS depth"
        " GROUP BY grp, depth, k1, k2, k3"
    )
    return unnest_sql(COUNT_COLUMNS, ch.query_table(counted, p, rows=sent))
