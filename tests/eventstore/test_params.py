"""Every value reaches ClickHouse exactly as given: parameters are never text to parse as SQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracking.eventstore.clickhouse.client import Params, Rows

pytestmark = pytest.mark.django_db

# any unicode but NUL (which no stored value holds): quotes, backslashes, tabs, newlines, separators
texts = st.text(
    alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=40
)
TRICKY = [
    "",
    "\\",
    "\\\\",
    "'",
    "\\'",
    '"',
    "\t",
    "\n",
    "\r\n",
    "\\N",
    "NULL",
    "{p0:String}",
    "a\\tb",
    "\x1e\x1f",
    "é名🙂",
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(st.sampled_from(TRICKY), texts))
def test_a_text_parameter_comes_back_exactly(clickhouse, value):
    p = Params()
    assert clickhouse.query(f"SELECT {p.add(value, 'String')}", p) == [(value,)]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.one_of(st.sampled_from(TRICKY), texts), max_size=5))
def test_a_list_parameter_comes_back_exactly(clickhouse, values):
    p = Params()
    assert clickhouse.query(f"SELECT {p.add(values, 'Array(String)')}", p) == [(values,)]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=30))
def test_an_integer_list_parameter_comes_back_exactly(clickhouse, values):
    """Lists of plain integers take a faster path to their text; bools, which are ints too, do not."""
    p = Params()
    assert clickhouse.query(f"SELECT {p.add(values, 'Array(Int64)')}", p) == [(values,)]
    p = Params()
    assert clickhouse.query(f"SELECT {p.add([True, False], 'Array(Bool)')}", p) == [([True, False],)]


def test_rows_join_a_query_as_a_table_and_leave_no_file(clickhouse):
    ids, moments = [3, 1, 2**62], [-5, 0, 1_767_225_600_000_000]
    rows = Rows("cohort", ("person_id", "first_us"), (ids, moments))
    table = clickhouse.rows_table(rows)
    path = rows.path
    result = clickhouse.query(f"SELECT person_id, first_us FROM {table} ORDER BY person_id", rows=[rows])
    assert result == sorted(zip(ids, moments, strict=True))
    assert path and not Path(path).exists()  # chDB read it from a file that lasted the query only
