"""Analyses over the events: funnels, retention, paths, metric populations and trends.

Each function answers the part of an analysis that reads events and hands the
rest (persons, sessions, segments, counting) to PostgreSQL. Most return a
PostgreSQL relation `(sql, params)` the caller embeds in its own statement:

- PostgreSQL: the statement over `tracking_event`, so one statement answers
  the whole analysis, as before;
- ClickHouse: the event part runs there at once, and the relation is its
  result as `SELECT … FROM unnest(%s::bigint[], …)`: the same columns with the
  same meaning, so the caller's statement is the same on both backends.

Inputs are primitives. A *step* (an event condition) is `None` (any event),
`{"name": str, "where": [property filters]}` or `{"action_steps": [steps]}`
(an action's steps, tracking.matching). `excluded` is the SQL of the persons
the traffic filter keeps out (`tracking.traffic.filtering.excluded_persons_sql`)
or None: PostgreSQL tests `person_id NOT IN (…)`; ClickHouse gets the ids,
computed in PostgreSQL, as an array parameter.

Where the engines cannot agree: ClickHouse has no insertion order, so events of
one person at the same microsecond are ordered by uuid (PostgreSQL: by id).
This matters only where such events are told apart by their order: paths
(which order a session's events) and the session a funnel breakdown takes when
two step-1 events share the first moment (arbitrary on both engines).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tracking.eventstore import using_clickhouse

Step = dict | None
Excluded = tuple[str, list] | None


# -- funnels -------------------------------------------------------------------------


def funnel_levels_sql(
    *,
    project_id: int,
    steps: list[Step],
    within: timedelta,
    start: datetime,
    end: datetime,
    with_session: bool = False,
    excluded: Excluded = None,
) -> tuple[str, list]:
    """`person_id, level, entered_at[, session_key]`: one row per entrant, level = furthest step reached.

    An entrant did step 1 in [start, end); step k is reached when steps 1…k
    happened in order, each strictly later than the one before, with step k at
    most `within` after step 1. `entered_at` is the person's first step 1 in the
    range, `session_key` that event's session.
    """
    args = dict(
        project_id=project_id, steps=steps, within=within, start=start, end=end,
        with_session=with_session, excluded=excluded,
    )  # fmt: skip
    if not using_clickhouse():
        from tracking.eventstore.postgres.analysis_funnels import levels_sql

        return levels_sql(**args)
    from tracking.eventstore.clickhouse.analysis_funnels import levels_relation

    return levels_relation(**args)


def funnel_counts_sql(
    *,
    project_id: int,
    steps: list[Step],
    within: timedelta,
    start: datetime,
    end: datetime,
    excluded: Excluded = None,
    groups: tuple[str, list] | None = None,
    samples: int,
) -> tuple[str, list]:
    """`group_id, reached1…n, stopped1…n-1`: the levels (funnel_levels_sql) counted, overall and per group.

    `groups` is the PostgreSQL query of `(group_id, person_id)` (a person may be in
    several groups); the relation has a row for everyone (group_id NULL) and one
    per group with entrants. `reached<k>` counts the entrants who reached step k;
    `stopped<k>` is up to `samples` ids of those whose furthest step is k
    (any of them: the two backends may pick different ones).
    Counted where the events are (ClickHouse) or walked (PostgreSQL, in NumPy): only these few rows come back.
    """
    args = dict(
        project_id=project_id, steps=steps, within=within, start=start, end=end,
        excluded=excluded, groups=groups, samples=samples,
    )  # fmt: skip
    if not using_clickhouse():
        from tracking.eventstore.postgres.analysis_funnels import counts_relation
    else:
        from tracking.eventstore.clickhouse.analysis_funnels import counts_relation

    return counts_relation(**args)


# -- retention -----------------------------------------------------------------------


def retention_returns_sql(
    *, project_id: int, cohort: tuple[str, list], step: Step, period: timedelta, periods: int
) -> tuple[str, list]:
    """`person_id, period`: the periods (0…periods-1) in which each cohort member did `step`, once each.

    `cohort` is the PostgreSQL query of the members (`person_id, first_seen`);
    the relation reads it as a CTE named `cohort`, which the caller defines with
    that query. Period N is [first_seen + N·period, first_seen + (N+1)·period).
    """
    if not using_clickhouse():
        from tracking.eventstore.postgres.analysis_retention import returns_sql

        return returns_sql(project_id=project_id, step=step, period=period, periods=periods)
    from tracking.eventstore.clickhouse.analysis_retention import returns_relation

    return returns_relation(project_id=project_id, cohort=cohort, step=step, period=period, periods=periods)


def retention_counts_sql(
    *,
    project_id: int,
    cohort: tuple[str, list],
    groups: tuple[str, list],
    step: Step,
    period: timedelta,
    periods: int,
) -> tuple[str, list]:
    """`cohort, group_id, period, persons`: a retention table counted, overall and per group.

    `cohort` is the PostgreSQL query of the members (`person_id, first_seen,
    cohort`, the last a date naming their cohort); `groups` of `(group_id,
    person_id)`, a person in any number of groups. Each (cohort, group) with
    members has a row of period -1 counting them and a row per period
    (retention_returns_sql) in which some came back; group 0 is everyone (group
    ids are positive). ClickHouse counts where the events are; PostgreSQL counts
    "any event" from its daily rollup in NumPy.
    """
    args = dict(
        project_id=project_id, cohort=cohort, groups=groups, step=step, period=period, periods=periods
    )
    if not using_clickhouse():
        from tracking.eventstore.postgres.analysis_retention import counts_relation
    else:
        from tracking.eventstore.clickhouse.analysis_retention import counts_relation

    return counts_relation(**args)


# -- paths ---------------------------------------------------------------------------


def path_steps_sql(
    *,
    project_id: int,
    start: datetime,
    end: datetime,
    anchor: Step,
    start_path: str | None,
    pageviews_only: bool,
    skipped: tuple[str, ...],
    forward: bool,
    excluded: Excluded = None,
) -> tuple[str, list]:
    """`person_id, s1, s2, s3`: the three steps after (or before) each person's first anchor in the range.

    The anchor is a page view of `start_path`, or else an event matching
    `anchor`; steps are that session's events on the anchor's side in the
    range (page views and anchors only, or every event not in `skipped`),
    labelled (page path, clicked text, event name), with repeats in a row
    folded. A step past the session's edge is NULL.
    """
    args = dict(
        project_id=project_id, start=start, end=end, anchor=anchor, start_path=start_path,
        pageviews_only=pageviews_only, skipped=skipped, forward=forward, excluded=excluded,
    )  # fmt: skip
    if not using_clickhouse():
        from tracking.eventstore.postgres.analysis_paths import steps_sql

        return steps_sql(**args)
    from tracking.eventstore.clickhouse.analysis_paths import steps_relation

    return steps_relation(**args)


def path_counts_sql(
    *,
    project_id: int,
    start: datetime,
    end: datetime,
    anchor: Step,
    start_path: str | None,
    pageviews_only: bool,
    skipped: tuple[str, ...],
    forward: bool,
    excluded: Excluded = None,
    groups: tuple[str, list],
) -> tuple[str, list]:
    """`group_id, depth, s1, s2, s3, persons`: the path steps (path_steps_sql) counted per prefix and group.

    A row per group and prefix: depth 0 counts the group's persons with an
    anchor, depth k (1…3) those whose first k steps are `s1…sk` (the later
    columns NULL; a step past the session's edge is NULL too). Groups as in
    retention_counts_sql: 0 is everyone, `groups` the query of `(group_id,
    person_id)`. ClickHouse counts where the events are; PostgreSQL's steps are
    walked and counted in NumPy.
    """
    args = dict(
        project_id=project_id, start=start, end=end, anchor=anchor, start_path=start_path,
        pageviews_only=pageviews_only, skipped=skipped, forward=forward, excluded=excluded,
    )  # fmt: skip
    if not using_clickhouse():
        from tracking.eventstore.postgres.analysis_paths import counts_relation
    else:
        from tracking.eventstore.clickhouse.analysis_paths import counts_relation

    return counts_relation(**args, groups=groups)


# -- metric populations --------------------------------------------------------------


def window_population_sql(
    *,
    project_id: int,
    step: Step,
    start: datetime,
    end: datetime,
    window_start: timedelta,
    window_end: timedelta,
    inclusive_end: bool,
    now: datetime,
) -> tuple[str, list]:
    """`person_id, y, mature` over the persons first seen in [start, end) (activation and retention metrics).

    y = 1 when they did `step` in [first_seen + window_start, first_seen + window_end)
    (`]` with `inclusive_end`); mature when that window has closed by `now`.
    """
    args = dict(
        project_id=project_id, step=step, start=start, end=end, window_start=window_start,
        window_end=window_end, inclusive_end=inclusive_end, now=now,
    )  # fmt: skip
    if not using_clickhouse():
        from tracking.eventstore.postgres.analysis_metrics import window_population_sql as build

        return build(**args)
    from tracking.eventstore.clickhouse.analysis_metrics import window_population

    return window_population(**args)


def churn_population_sql(
    *, project_id: int, start: datetime, end: datetime, quiet: timedelta, now: datetime
) -> tuple[str, list]:
    """`person_id, y, mature` over the persons with an event in [start, end).

    y = 1 when nothing followed their last event of the range for `quiet`;
    mature when that quiet period has ended by `now`.
    """
    if not using_clickhouse():
        from tracking.eventstore.postgres.analysis_metrics import churn_population_sql as build

        return build(project_id=project_id, start=start, end=end, quiet=quiet, now=now)
    from tracking.eventstore.clickhouse.analysis_metrics import churn_population

    return churn_population(project_id=project_id, start=start, end=end, quiet=quiet, now=now)


def value_population_sql(
    *, project_id: int, step: Step, prop: str, start: datetime, end: datetime, aggregate: str, per: str
) -> tuple[str, list]:
    """`person_id, y, mature` of a numeric event property (sl_numeric: a JSON number or a numeric string).

    per="active": every person with an event in the range, y the sum over their
    events matching `step` (0 when none). per="performer": persons with a numeric
    value on a matching event, y its `aggregate` ("sum" or "avg"). Always mature.
    """
    args = dict(
        project_id=project_id, step=step, prop=prop, start=start, end=end, aggregate=aggregate, per=per
    )
    if not using_clickhouse():
        from tracking.eventstore.postgres.analysis_metrics import value_population_sql as build

        return build(**args)
    from tracking.eventstore.clickhouse.analysis_metrics import value_population

    return value_population(**args)


def frequency_population_sql(
    *, project_id: int, step: Step, start: datetime, end: datetime, zone: str
) -> tuple[str, list]:
    """`person_id, y, mature`: events matching `step` per day with any event (days in `zone`), per active person."""
    if not using_clickhouse():
        from tracking.eventstore.postgres.analysis_metrics import frequency_population_sql as build

        return build(project_id=project_id, step=step, start=start, end=end, zone=zone)
    from tracking.eventstore.clickhouse.analysis_metrics import frequency_population

    return frequency_population(project_id=project_id, step=step, start=start, end=end, zone=zone)


# -- trends --------------------------------------------------------------------------


def trend_rows(
    *,
    project_id: int,
    zone: str,
    interval: str,
    start: datetime,
    end: datetime,
    event: str | None,
    action_steps: list | None,
    filters: list[dict],
    breakdown: tuple[str, str] | None,
    excluded: Excluded,
    top_values: int,
) -> list[tuple]:
    """Counts and unique persons of matching events in [start, end), by local bucket and breakdown value.

    Rows `(bucket, is_top, shown, events, persons, GROUPING(bucket), GROUPING(is_top))`
    of the grouping sets (bucket, value), (value), (bucket) and (): `bucket` is the
    naive local start (`date_trunc(interval)` in `zone`), values beyond the
    `top_values` most frequent are folded (is_top false). `breakdown` is
    (kind, property) as in analysis.trends.
    """
    args = dict(
        project_id=project_id, zone=zone, interval=interval, start=start, end=end, event=event,
        action_steps=action_steps, filters=filters, breakdown=breakdown, excluded=excluded,
    )  # fmt: skip
    if not using_clickhouse():
        from tracking.eventstore.postgres.analysis_trends import trend_rows as rows

        return rows(**args, top_values=top_values)
    from tracking.eventstore.clickhouse.analysis_trends import trend_rows as rows

    return rows(**args, top_values=top_values)


def trend_person_counts(
    *,
    project_id: int,
    start: datetime,
    end: datetime,
    event: str | None,
    action_steps: list | None,
    filters: list[dict],
    breakdown: tuple[str, str] | None,
    breakdown_value: str | None,
    excluded: Excluded,
    limit: int,
) -> list[tuple[int, int]]:
    """`(person_id, events)` of the persons behind a trend (optionally one breakdown value), most events first."""
    args = dict(
        project_id=project_id, start=start, end=end, event=event, action_steps=action_steps,
        filters=filters, breakdown=breakdown, breakdown_value=breakdown_value, excluded=excluded, limit=limit,
    )  # fmt: skip
    if not using_clickhouse():
        from tracking.eventstore.postgres.analysis_trends import person_counts

        return person_counts(**args)
    from tracking.eventstore.clickhouse.analysis_trends import person_counts

    return person_counts(**args)
