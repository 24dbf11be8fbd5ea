"""Retention: weekly cohorts by first-seen week, return periods from each person's first moment."""

from __future__ import annotations

from datetime import date

import pytest

from analysis.params import ParamError
from analysis.retention import retention_compute, retention_params
from tests.analysis.conftest import NOW, act, at, page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("events_backend")]


@pytest.fixture
def cohorts(collect, segment_of):
    """Two weekly cohorts (Mondays Jun 1 and Jun 8):

    a1: first Jun 1 10:00, back Jun 9 (week 1) with a signup, and Jun 16 (week 2)
    a2: first Jun 2 12:00, back Jun 10 13:00 (week 1)
    a3: first Jun 3, never back
    b1: first Jun 9, back Jun 17 (week 1)
    b2: first Jun 10, back Jun 11 (still week 0)
    """
    collect([
        page("a1", "/", at(1, 10)), act("signup", "a1", at(9)), page("a1", "/", at(16)),
        page("a2", "/", at(2, 12)), page("a2", "/", at(10, 13)),
        page("a3", "/", at(3)),
        page("b1", "/", at(9)), page("b1", "/", at(17)),
        page("b2", "/", at(10)), page("b2", "/", at(11)),
    ])  # fmt: skip
    return segment_of("Early birds", ["a1", "b1"])


def run(project, **params):
    params = {"date_from": "2026-06-01", "date_to": "2026-06-14", "periods": 3, **params}
    return retention_compute(project=project, query=retention_params(params, project=project), now=NOW)


def table(result, group: str = "Everyone") -> dict:
    return {
        row.cohort: (row.size, [cell.count for cell in row.cells], [cell.complete for cell in row.cells])
        for row in result.rows
        if row.group == group
    }


def test_cohorts_by_first_seen_week_and_returns_in_week_n(cohorts, project):
    result = run(project)
    assert result.cohorts == [date(2026, 6, 1), date(2026, 6, 8)]
    assert table(result) == {
        date(2026, 6, 1): (3, [3, 2, 1], [True, True, True]),
        # week 2 of the second cohort ends after Jun 30 for someone first seen on Jun 14
        date(2026, 6, 8): (2, [2, 1, 0], [True, True, False]),
    }
    cells = next(r for r in result.rows if r.group == "Everyone").cells
    assert [c.rate for c in cells] == [pytest.approx(1.0), pytest.approx(2 / 3), pytest.approx(1 / 3)]


def test_rows_are_split_by_segment_and_averages_skip_cells_in_progress(cohorts, project):
    result = run(project, segments=[cohorts.pk])
    assert table(result, "Early birds") == {
        date(2026, 6, 1): (1, [1, 1, 1], [True, True, True]),
        date(2026, 6, 8): (1, [1, 1, 0], [True, True, False]),
    }
    everyone, birds = result.curves
    assert everyone.rates == [pytest.approx(1.0), pytest.approx(3 / 5), pytest.approx(1 / 3)]
    assert birds.rates == [pytest.approx(1.0), pytest.approx(1.0), pytest.approx(1.0)]


def test_a_chosen_return_event(cohorts, project):
    result = run(project, event={"name": "signup"})
    assert table(result)[date(2026, 6, 1)][1] == [0, 1, 0]


def test_daily_cohorts(cohorts, project):
    result = run(project, period="day", periods=2, date_from="2026-06-09", date_to="2026-06-10")
    assert table(result) == {
        date(2026, 6, 9): (1, [1, 0], [True, True]),
        date(2026, 6, 10): (1, [1, 1], [True, True]),
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "month"}, "period"),
        ({"periods": 0}, "periods"),
        ({"event": {"name": 5}}, "event.name"),
        ({"segments": [123456]}, "segments[0]"),
        ({"period": "day", "date_from": "2026-01-01", "date_to": "2026-06-01"}, "date_from"),
    ],
)
def test_bad_retention_parameters_name_the_field(project, params, field):
    with pytest.raises(ParamError) as error:
        retention_params(params, project=project)
    assert field in error.value.errors, error.value.errors
