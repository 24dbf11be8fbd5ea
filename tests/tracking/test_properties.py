"""Property filters mean the same in PostgreSQL, ClickHouse and Python."""

from __future__ import annotations

import orjson
import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracking.eventstore.clickhouse.client import Params
from tracking.eventstore.clickhouse.filters import column_filter, json_filter
from tracking.properties import (
    FilterError,
    column_filter_match,
    column_filter_sql,
    float_text,
    jsonb_filter_match,
    jsonb_filter_sql,
    validate_filter,
)

pytestmark = pytest.mark.django_db

KEYS = ["plan", "seats", "email", "flag"]
scalars = st.one_of(
    st.sampled_from(["pro", "free", "Pro", "10", "2.5", "-3", "ann@x.io", "", "2026-01-05", "a_b%c"]),
    st.integers(min_value=-20, max_value=20),
    st.sampled_from([0.5, 2.5, 10.0, -1.25, 1e16, 1.5e-7, -0.0, 2e21]),
    st.booleans(),
    st.none(),
    # nested values, and text JSON escapes
    st.sampled_from([{"url": "/Pricing?x=1", "n": 100.0}, ["a", "PRO"], 'say "pro"\\n', "x/pricing/y"]),
)
properties = st.dictionaries(st.sampled_from(KEYS), scalars, max_size=4)
values = st.one_of(
    st.sampled_from(["pro", "PRO", "10", "2.5", "ann", "2026-01-01", "_b%", "true"]),
    st.integers(min_value=-5, max_value=15),
    st.sampled_from([2.5, 0.5, 10.0, 1e16]),
    st.booleans(),
)


@st.composite
def filters(draw):
    operator = draw(
        st.sampled_from(
            [
                "eq",
                "neq",
                "in",
                "not_in",
                "contains",
                "not_contains",
                "regex",
                "gt",
                "gte",
                "lt",
                "lte",
                "is_set",
                "is_not_set",
            ]
        )
    )
    if operator in ("in", "not_in"):
        value = draw(st.lists(values, min_size=1, max_size=3))
    elif operator in ("contains", "not_contains"):
        value = draw(
            st.sampled_from(
                ["pro", "PRO", "1", "@x", "_b%", "a", "/pricing", "ru", "e2", '"pro', "o\\", ": 1", "url"]
            )
        )
    elif operator == "regex":
        value = draw(st.sampled_from(["^pro$", "[0-9]+", "^$", "x\\.io", "P.o", "^-"]))
    elif operator in ("gt", "gte", "lt", "lte"):
        value = draw(
            st.one_of(st.integers(min_value=-5, max_value=15), st.sampled_from([2.5, "2026-01-03", "m"]))
        )
    else:
        value = draw(values)
    return draw(st.sampled_from(KEYS)), operator, value


def _sql_says(props: dict, key: str, operator: str, value) -> bool:
    expression, params = jsonb_filter_sql("t.props", key, operator, value)
    with connection.cursor() as cursor:
        # the expression comes from the code under test; every value is a parameter
        sql = f"SELECT {expression} FROM (SELECT %s::jsonb AS props) t"
        cursor.execute(sql, [*params, orjson.dumps(props).decode()])
        return cursor.fetchone()[0]


def _clickhouse_says(ch, props: dict, key: str, operator: str, value) -> bool:
    p = Params()
    expression = json_filter("t.props", key, operator, value, p)
    row = p.add(orjson.dumps(props).decode(), "String")  # the JSON text, as ingestion stores it
    return bool(ch.query(f"SELECT {expression} FROM (SELECT {row} AS props) AS t", p)[0][0])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(props=properties, flt=filters())
def test_jsonb_filters_mean_the_same_in_postgresql_clickhouse_and_python(clickhouse, props, flt):
    key, operator, value = flt
    validate_filter(operator, value)
    in_python = jsonb_filter_match(props, key, operator, value)
    assert _sql_says(props, key, operator, value) == in_python, (props, flt)
    assert _clickhouse_says(clickhouse, props, key, operator, value) == in_python, (props, flt)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.sampled_from(["Chrome", "Firefox", "", "chrome", "10", "2.5", "US"]), flt=filters())
def test_column_filters_mean_the_same_in_postgresql_clickhouse_and_python(clickhouse, text, flt):
    _, operator, value = flt
    expression, params = column_filter_sql("t.col", operator, value)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {expression} FROM (SELECT %s::text AS col) t", [*params, text])
        in_sql = cursor.fetchone()[0]
    p = Params()
    ch_expression = column_filter("t.col", operator, value, p)
    in_clickhouse = clickhouse.query(
        f"SELECT {ch_expression} FROM (SELECT {p.add(text, 'String')} AS col) AS t", p
    )
    in_python = column_filter_match(text, operator, value)
    assert in_sql == in_python, (text, flt)
    assert bool(in_clickhouse[0][0]) == in_python, (text, flt)


@pytest.mark.parametrize(
    "number", [10.0, 0.5, -1.25, 1e16, 9.999e15, 1.5e-7, 1e-5, -0.0, 2e21, 1e100, 5e-324]
)
def test_a_float_reads_as_postgresql_reads_it_in_every_engine(clickhouse, number):
    # orjson writes 10.0 and 1e+16; numeric reads them as "10.0" and "10000000000000000"
    props = {"n": number}
    with connection.cursor() as cursor:
        cursor.execute("SELECT (%s::jsonb) ->> 'n'", [orjson.dumps(props).decode()])
        assert cursor.fetchone()[0] == float_text(number)
    assert _clickhouse_says(clickhouse, props, "n", "eq", float_text(number))
    assert jsonb_filter_match(props, "n", "eq", float_text(number))


def test_a_missing_property_is_not_equal_and_does_not_contain():
    assert jsonb_filter_match({}, "plan", "neq", "pro")
    assert not jsonb_filter_match({}, "plan", "contains", "p")
    assert jsonb_filter_match({}, "plan", "not_contains", "p")
    assert _sql_says({}, "plan", "neq", "pro") and not _sql_says({}, "plan", "contains", "p")


def test_numbers_compare_as_numbers_and_dates_as_text():
    assert jsonb_filter_match({"seats": "10"}, "seats", "gt", 9)
    assert not jsonb_filter_match({"seats": "10"}, "seats", "gt", "9")  # text: "10" < "9"
    assert _sql_says({"seats": 10}, "seats", "gte", 10)
    assert _sql_says({"d": "2026-02-01"}, "d", "gt", "2026-01-31")


@pytest.mark.parametrize(
    ("operator", "value", "message"),
    [
        ("like", "x", "unknown operator"),
        ("in", "x", "non-empty list"),
        ("regex", "(", "invalid regular expression"),
        ("contains", 3, "needs a string"),
        ("gt", [1], "needs a number"),
    ],
)
def test_invalid_filters_say_why(operator, value, message):
    with pytest.raises(FilterError, match=message):
        validate_filter(operator, value)


def test_a_regex_python_accepts_but_postgresql_refuses_is_caught():
    # Python accepts (?P<name>…) groups; PostgreSQL's regular expressions do not.
    with pytest.raises(FilterError, match="PostgreSQL"):
        validate_filter("regex", "(?P<x>a)")


@pytest.mark.parametrize("pattern", ["(?=a)b", "(?<!x)y", "(a)\\1", "a\\Z"])
def test_a_regex_re2_cannot_run_is_refused_when_events_are_in_clickhouse(clickhouse, pattern):
    with pytest.raises(FilterError, match="ClickHouse"):
        validate_filter("regex", pattern)


def test_lookahead_stays_allowed_when_events_are_in_postgresql():
    validate_filter("regex", "(?=a)a")


def test_a_dot_matches_a_newline_in_postgresql_and_clickhouse(clickhouse):
    props = {"note": "line one\nline two"}
    assert _sql_says(props, "note", "regex", "one.line")
    assert _clickhouse_says(clickhouse, props, "note", "regex", "one.line")
    assert not _clickhouse_says(clickhouse, props, "note", "regex", "^line two")


def test_contains_folds_accented_letters_in_postgresql_and_clickhouse(clickhouse):
    props = {"city": "ÉVORA"}
    assert _sql_says(props, "city", "contains", "évora")
    assert _clickhouse_says(clickhouse, props, "city", "contains", "évora")


@pytest.mark.parametrize("operator", ["gt", "gte", "lt", "lte"])
@pytest.mark.parametrize("bound", [10**60, -1e300, 1e-30])
def test_bounds_beyond_clickhouse_decimals_compare_as_in_postgresql(clickhouse, operator, bound):
    for props in ({"n": 5}, {"n": "-2.5"}, {"n": "x"}, {}):
        in_python = jsonb_filter_match(props, "n", operator, bound)
        assert _sql_says(props, "n", operator, bound) == in_python, props
        assert _clickhouse_says(clickhouse, props, "n", operator, bound) == in_python, props


@pytest.mark.parametrize(
    "text", ["ÉVORA", "Straße", "\u212a", "İstanbul", "ǅemal", "/PRICING", "", "a\\b%_c"]
)
@pytest.mark.parametrize(
    "value", ["vora", "k", "istanbul", "/pricing", "/PriCing", "ß", "évora", "%", "_", "\\", "ǆ"]
)
def test_contains_gives_what_a_plain_ilike_gives(text, value):
    """The ASCII fast path of `contains` (ASCII lowering first) answers as ILIKE under the database's collation."""
    pattern = "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s ILIKE %s", [text, pattern])
        expected = cursor.fetchone()[0]
        column, params = column_filter_sql("t.v", "contains", value)
        cursor.execute(f"SELECT {column} FROM (SELECT %s::text AS v) t", [*params, text])
        assert cursor.fetchone()[0] is expected
    assert _sql_says({"k": text}, "k", "contains", value) is expected
    assert _sql_says({"k": text}, "k", "not_contains", value) is not expected
