"""Every value reaches ClickHouse exactly as given: parameters are never text to parse as SQL."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracking.eventstore.clickhouse.client import Params

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
