"""Path steps on PostgreSQL: the three steps after (or before) each person's first anchor."""

from __future__ import annotations

from datetime import datetime

from tracking.eventstore.postgres.analysis_steps import excluded_sql, step_sql

_LABEL = (
    "CASE WHEN e.name = '$pageview' THEN coalesce(nullif(e.path, ''), e.url)"
    " WHEN e.name = '$autocapture' AND e.el_text <> '' THEN 'click “' || left(e.el_text, 60) || '”'"
    " ELSE e.name END"
)


def steps_sql(
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
) -> tuple[str, list]:
    """`person_id, s1, s2, s3` as one statement (its own WITH), events ordered by (timestamp, id).

    1. each person's first anchor (event_project_name_ts when the anchor names its event);
    2. only that session's events on the anchor's side of it, so the window functions run over
       the paths asked about, not over every session of the range: each anchor reads its
       person's events from the anchor to the session's edge on event_project_person_ts
       (project_id, person_id, timestamp). The edge is the session's `ended_at` (`started_at`
       backwards), which the drain keeps at the latest (earliest) event of the session; an
       anchor whose session has no row reads to the range's edge. The probes are a LATERAL
       subquery kept whole (OFFSET 0): flattened, the planner hashed the anchors and read every
       event of the range instead, several times slower at 10M events.
    """
    if start_path is not None:
        anchor_sql, anchor_params = "(e.name = '$pageview' AND e.path = %s)", [start_path]
    else:
        anchor_sql, anchor_params = step_sql(anchor, "e")
    if pageviews_only:
        # page views only (and the anchor itself, when it is another event): event_project_name_ts
        kinds, kind_params = f"(e.name = '$pageview' OR {anchor_sql})", list(anchor_params)
    else:
        kinds, kind_params = "NOT (e.name = ANY(%s))", [list(skipped)]
    shift = "lead" if forward else "lag"
    side = ">=" if forward else "<="
    # the other side's bound: the session's last (first) event
    edge, bound, infinity = ("ended_at", "<=", "infinity") if forward else ("started_at", ">=", "-infinity")
    counted, counted_params = excluded_sql("e.person_id", excluded)
    sql = f"""
        WITH anchors AS NOT MATERIALIZED (
            SELECT DISTINCT ON (e.person_id) e.person_id, e.session_key, e.timestamp AS ts, e.id
            FROM tracking_event e
            WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s AND {anchor_sql} AND {counted}
            ORDER BY e.person_id, e.timestamp, e.id
        ),
        ev AS (
            SELECT a.person_id, e.ts, e.id, e.label, e.is_start, e.id = a.id AS is_anchor
            FROM anchors a
            LEFT JOIN tracking_session s ON s.project_id = %s AND s.session_key = a.session_key
            CROSS JOIN LATERAL (
                SELECT e.timestamp AS ts, e.id, {_LABEL} AS label, {anchor_sql} AS is_start
                FROM tracking_event e
                WHERE e.project_id = %s AND e.person_id = a.person_id AND e.session_key = a.session_key
                    AND e.timestamp >= %s AND e.timestamp < %s AND e.timestamp {side} a.ts
                    AND e.timestamp {bound} coalesce(s.{edge}, '{infinity}') AND {kinds}
                OFFSET 0
            ) e
        ),
        marked AS (
            SELECT ev.*, lag(label) OVER w AS prev_label, lag(is_start) OVER w AS prev_start
            FROM ev WINDOW w AS (PARTITION BY person_id ORDER BY ts, id)
        ),
        kept AS (
            SELECT * FROM marked
            WHERE prev_label IS DISTINCT FROM label OR (is_start AND NOT coalesce(prev_start, false))
        ),
        stepped AS (
            SELECT person_id, is_anchor,
                   {shift}(label, 1) OVER w AS s1, {shift}(label, 2) OVER w AS s2, {shift}(label, 3) OVER w AS s3
            FROM kept WINDOW w AS (PARTITION BY person_id ORDER BY ts, id)
        )
        SELECT person_id, s1, s2, s3 FROM stepped WHERE is_anchor
    """
    params = [
        project_id, start, end, *anchor_params, *counted_params,
        project_id, *anchor_params, project_id, start, end, *kind_params,
    ]  # fmt: skip
    return sql, params


def counts_sql(steps: tuple[str, list], groups: tuple[str, list]) -> tuple[str, list]:
    """`group_id, depth, s1, s2, s3, persons` over the steps, in the same statement (GROUPING SETS)."""
    sql = (
        f"WITH firsts AS ({steps[0]}), m AS ({groups[0]}),"
        " tagged AS (SELECT 0::bigint AS grp, f.* FROM firsts f"
        " UNION ALL SELECT m.group_id, f.* FROM firsts f JOIN m ON m.person_id = f.person_id)"
        # GROUPING(s1, s2, s3) has a bit set for each column not grouped: 7, 3, 1, 0 for depth 0…3
        " SELECT grp AS group_id, CASE GROUPING(s1, s2, s3) WHEN 7 THEN 0 WHEN 3 THEN 1 WHEN 1 THEN 2 ELSE 3 END"
        " AS depth, s1, s2, s3, count(*) AS persons FROM tagged"
        " GROUP BY GROUPING SETS ((grp), (grp, s1), (grp, s1, s2), (grp, s1, s2, s3))"
    )
    return sql, [*steps[1], *groups[1]]
