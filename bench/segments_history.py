"""Membership history: reconstructing a segment's daily points against one full computation of it.

Run through `bench/segments.py --history` (which generates and loads the data);
this module holds the measurement. Per segment it times, best of `repeat` warm
runs, the live full computation (`compile_segment(segment, now=)` and the SELECT
`apply_membership` materialises: a rank finds its threshold when compiled, so the
compile counts, as in `bench/segments.py`) and one full as-of evaluation
(`compile_segment(segment, now=, as_of=True)` and its SELECT, what the first
boundary of a reconstruction costs); then one `segments.history.reconstruct(segment, now=,
horizon_days=)`, whose time is divided by the live computation's (goal: <= 20x
for 180 days). A definition the sweep evaluates (segments.sweep) is
rebuilt in one pass over the history; the others boundary by boundary, where the
engine's two per-boundary steps, finding the candidates and evaluating them, are
wrapped with timers so the table says where the time went. `stepwise` also
rebuilds the swept segments boundary by boundary, to compare.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from unittest.mock import patch

GOAL = 20


@dataclass
class Timers:
    """Wall time of the engine's per-boundary steps during one reconstruction."""

    candidates_s: float = 0.0
    candidates: list[int] = field(default_factory=list)  # candidates found at each incremental boundary
    evaluate_full_s: float = 0.0
    evaluate_scoped_s: float = 0.0
    sweep_s: float = 0.0
    slowest: tuple[float, datetime | None, int] = (
        0.0,
        None,
        0,
    )  # (seconds, boundary, persons) of a scoped evaluation


def _instrument(history, timers: Timers):
    """Wrap history.candidates_by_step, history._matching and history.sweep_members with timers; returns a
    function that unwraps them."""
    candidates, matching, sweep = history.candidates_by_step, history._matching, history.sweep_members

    def timed_sweep(*args, **kwargs):
        t0 = time.perf_counter()
        found = sweep(*args, **kwargs)
        timers.sweep_s += time.perf_counter() - t0
        return found

    def timed_candidates(*args, **kwargs):
        t0 = time.perf_counter()
        found = candidates(*args, **kwargs)
        timers.candidates_s += time.perf_counter() - t0
        timers.candidates.extend(len(step) for step in found[1:])
        return found

    def timed_matching(segment, definition, *, at, person_ids):
        t0 = time.perf_counter()
        found = matching(segment, definition, at=at, person_ids=person_ids)
        spent = time.perf_counter() - t0
        if person_ids is None:
            timers.evaluate_full_s += spent
        else:
            timers.evaluate_scoped_s += spent
            if spent > timers.slowest[0]:
                timers.slowest = (spent, at, len(person_ids))
        return found

    history.candidates_by_step, history._matching = timed_candidates, timed_matching
    history.sweep_members = timed_sweep

    def restore():
        history.candidates_by_step, history._matching = candidates, matching
        history.sweep_members = sweep

    return restore


def _best(url: str, compile_query, repeat: int, work_mem: str) -> tuple[float, int]:
    """Best of `repeat` warm runs of compiling (`compile_query()`) and executing a segment's SELECT."""
    import psycopg

    best, size = float("inf"), 0
    with psycopg.connect(url) as conn:
        conn.execute("SELECT set_config('work_mem', %s, false)", [work_mem])
        for i in range(repeat + 1):  # the first run warms up
            t0 = time.perf_counter()
            query = compile_query()
            rows = conn.execute(query.sql, query.params).fetchall()
            if i:
                best = min(best, time.perf_counter() - t0)
            size = len(rows)
    return best, size


def explain(url: str, sql: str, params: list, work_mem: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("SELECT set_config('work_mem', %s, false)", [work_mem])
        rows = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params).fetchall()
    return "\n".join("    " + r[0] for r in rows)


def run(
    url: str, project, cases, *, now: datetime, horizon_days: int, repeat: int, explain_names, stepwise=False
) -> None:
    """Reconstruct each case's history and print the table (see the module docstring)."""
    from django.conf import settings

    from segments import history
    from segments.compiler import compile_definition, compile_segment
    from segments.definition import validate_definition
    from segments.models import Segment, SegmentKind

    work_mem = settings.SEGMENT_WORK_MEM
    points = history.boundaries(project, now=now, horizon_days=horizon_days)
    first = history.first_activity(project)
    print(f"history: first event {first:%Y-%m-%d}, {len(points)} boundaries from {points[0]:%Y-%m-%d}"
          f" to {points[-1]:%Y-%m-%d} (horizon {horizon_days} days)")  # fmt: skip
    print()
    print(f"{'segment':<22} {'members':>8} {'full':>8} {'as-of':>8} {'rebuild':>9} {'ratio':>6}  {'days':>4}"
          f" {'method':>8} {'eval/bnd':>9} {'full evals':>10}  {'cand s':>7} {'eval s':>7} {'store s':>7}")  # fmt: skip
    rows, compared = [], []
    for name, _description, definition, _duck, *subject in cases:
        if subject:  # membership history is rebuilt for segments of people
            continue
        definition = validate_definition(definition, project_id=project.pk)
        segment = Segment.objects.create(
            project=project, name=name, kind=SegmentKind.DYNAMIC, definition=definition
        )
        live_s, size = _best(url, partial(compile_segment, segment, now=now), repeat, work_mem)
        as_of_s, _ = _best(url, partial(compile_segment, segment, now=now, as_of=True), repeat, work_mem)
        result, rebuild_s, timers = _rebuild(history, segment, now=now, horizon_days=horizon_days)
        ratio = rebuild_s / live_s
        rows.append((name, ratio, rebuild_s, live_s))
        _print_row(name, size, live_s, as_of_s, rebuild_s, result, timers)
        if stepwise and result.method == "sweep":
            swept = _periods_of(segment)
            with patch.object(history, "SWEEP", False):
                step_result, step_s, step_timers = _rebuild(
                    history, segment, now=now, horizon_days=horizon_days
                )
            same = "same periods" if _periods_of(segment) == swept else "PERIODS DIFFER"
            compared.append((name, rebuild_s, step_s, same))
            _print_row("  stepwise", size, live_s, as_of_s, step_s, step_result, step_timers)
        scoped = timers.candidates
        if scoped:
            spent, at, persons = timers.slowest
            print(f"  {'':<20} candidates per boundary: median {sorted(scoped)[len(scoped) // 2]:,}, max {max(scoped):,};"
                  f" full evaluations {timers.evaluate_full_s:.1f} s, scoped {timers.evaluate_scoped_s:.1f} s"
                  + (f"; slowest scoped {1000 * spent:.0f} ms ({persons:,} persons)" if at else ""))  # fmt: skip
        if ("all" in explain_names or name in explain_names) and timers.slowest[1] is not None:
            _, at, _ = timers.slowest
            deps = history.dependencies(
                history.effective_definition(segment), project_id=project.pk, seen=frozenset({segment.pk})
            )
            ids = sorted(history.candidates_by_step(project, deps, [at - (points[1] - points[0]), at])[1])
            query = compile_definition(definition, project=project, now=at, person_ids=ids, segment_id=segment.pk,
                                       as_of=True)  # fmt: skip
            print(f"  -- slowest scoped boundary {at:%Y-%m-%d}, {len(ids):,} persons")
            print(explain(url, query.sql, query.params, work_mem))
    for name, sweep_s, step_s, same in compared:
        print(
            f"{name:<22} one sweep {sweep_s:.1f} s, stepwise {step_s:.1f} s ({step_s / sweep_s:.1f}x): {same}"
        )
    total_rebuild = sum(r[2] for r in rows)
    total_live = sum(r[3] for r in rows)
    met = [r for r in rows if r[1] <= GOAL]
    worst = max(rows, key=lambda r: r[1])
    print(f"{'all segments':<22} {'':>8} {1000 * total_live:>6.0f}ms {'':>8} {total_rebuild:>8.1f}s"
          f" {total_rebuild / total_live:>5.1f}x   goal <= {GOAL}x one full computation: {len(met)}/{len(rows)} met;"
          f" worst {worst[0]} {worst[1]:.1f}x")  # fmt: skip


def _rebuild(history, segment, *, now: datetime, horizon_days: int):
    timers = Timers()
    restore = _instrument(history, timers)
    try:
        t0 = time.perf_counter()
        result = history.reconstruct(segment, now=now, horizon_days=horizon_days)
        rebuild_s = time.perf_counter() - t0
    finally:
        restore()
    return result, rebuild_s, timers


def _print_row(name, size, live_s, as_of_s, rebuild_s, result, timers) -> None:
    per_boundary = result.evaluated / (result.days + 1)
    evaluate_s = timers.evaluate_full_s + timers.evaluate_scoped_s + timers.sweep_s
    store_s = rebuild_s - timers.candidates_s - evaluate_s
    print(f"{name:<22} {size:>8,} {1000 * live_s:>6.0f}ms {1000 * as_of_s:>6.0f}ms {rebuild_s:>8.1f}s"
          f" {rebuild_s / live_s:>5.1f}x  {result.days:>4} {result.method:>8} {per_boundary:>9,.0f}"
          f" {result.full_evaluations:>10}  {timers.candidates_s:>7.1f} {evaluate_s:>7.1f} {store_s:>7.1f}",
          flush=True)  # fmt: skip


def _periods_of(segment) -> list[tuple]:
    from segments.models import SegmentMembership

    return sorted(
        SegmentMembership.objects.filter(segment=segment).values_list("person_id", "entered_at", "exited_at")
    )
