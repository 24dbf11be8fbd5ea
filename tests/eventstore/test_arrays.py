"""Values found in ClickHouse reach PostgreSQL as arrays in their text form: every value comes back as it went."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pyarrow as pa
import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from tracking.eventstore.arrays import MICROS, arrow_array_text, pg_array, pg_array_of, unnest_sql
from tracking.eventstore.columns import bigint_columns, read_columns

pytestmark = pytest.mark.django_db

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# PostgreSQL's text cannot hold NUL; everything else can
_TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)))


def _back(text: str, pg_type: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT %s::{pg_type}[]", [text])
        return cursor.fetchone()[0]


@given(values=st.lists(st.none() | _TEXT, max_size=30))
def test_any_text_comes_back_as_it_went(values):
    assert _back(pg_array_of(values, "text"), "text") == values


def test_the_characters_array_syntax_gives_meaning_to_are_plain_text_inside():
    values = ["a,b", "{x}", 'say "hi"', "back\\slash", "NULL", "", " padded ", "é中", None]
    assert _back(pg_array_of(values, "text"), "text") == values


@given(values=st.lists(st.none() | st.integers(-(2**63), 2**63 - 1), max_size=50))
def test_integers_come_back_as_they_went(values):
    assert _back(pg_array_of(values, "bigint"), "bigint") == values


def test_ids_numbers_times_and_dates():
    ids = [3, 1, 2**62]
    assert _back(pg_array(ids), "bigint") == ids
    # ClickHouse's decimals arrive as text (toString), Python's as Decimal
    assert _back(pg_array(["12.50", "-0.000001", "100000000000000000000.1"]), "numeric") == [
        Decimal("12.50"), Decimal("-0.000001"), Decimal("100000000000000000000.1"),
    ]  # fmt: skip
    assert _back(pg_array_of([Decimal("1E+2"), None], "numeric"), "numeric") == [Decimal("100"), None]
    moments = [datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=UTC), None]
    assert _back(pg_array_of(moments, "timestamptz"), "timestamptz") == moments
    local = [datetime(2026, 10, 25, 2, 30)]
    assert _back(pg_array_of(local, "timestamp"), "timestamp") == local
    assert _back(pg_array_of([date(2026, 12, 7)], "date"), "date") == [date(2026, 12, 7)]
    assert _back(pg_array_of([], "text"), "text") == []


@given(
    moment=st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31), timezones=st.just(UTC)
    )
)
def test_moments_sent_as_microseconds_come_back_exactly(moment):
    """ClickHouse's `toUnixTimestamp64Micro` of a moment, through unnest_sql's MICROS column, is that moment."""
    micros = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    sql, params = unnest_sql((("person_id", "bigint"), ("at", MICROS)), [(7, micros)])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        assert cursor.fetchall() == [(7, moment)]


@settings(deadline=None)  # the first example loads Arrow's compute functions
@given(
    texts=st.lists(st.none() | _TEXT, max_size=30),
    ids=st.lists(st.none() | st.integers(-(2**63), 2**63 - 1), max_size=30),
)
def test_arrow_columns_come_back_as_they_went(texts, ids):
    """A ClickHouse result handed on by column (Arrow) writes the same array text as the same values as tuples."""
    assert arrow_array_text(pa.chunked_array([pa.array(texts, pa.string())]), "text") == pg_array_of(
        texts, "text"
    )
    assert arrow_array_text(pa.array(texts, pa.binary()), "text") == pg_array_of(texts, "text")
    assert arrow_array_text(pa.array(ids, pa.int64()), "bigint") == pg_array_of(ids, "bigint")
    assert _back(arrow_array_text(pa.array(texts, pa.string()), "text"), "text") == texts


def test_a_clickhouse_table_is_the_same_relation_as_its_rows(clickhouse):
    from tracking.eventstore.clickhouse.client import client

    sql = (
        "SELECT number AS id, toUInt8(number % 2) AS flag, toString(number) || '\",\\\\' AS label,"
        " toInt64(1700000000000000 + number) AS at, if(number = 3, NULL, concat('x', toString(number))) AS maybe"
        " FROM numbers(5)"
    )
    columns = (("id", "bigint"), ("flag", "int"), ("label", "text"), ("at", MICROS), ("maybe", "text"))
    by_rows, by_table = (
        unnest_sql(columns, client().query(sql)),
        unnest_sql(columns, client().query_table(sql)),
    )
    assert by_rows == by_table
    with connection.cursor() as cursor:
        cursor.execute(*by_table)
        got = cursor.fetchall()
    assert [r[2] for r in got] == [f'{i}",\\' for i in range(5)] and got[3][4] is None
    assert unnest_sql(columns, client().query_table(sql + " WHERE false")) == unnest_sql(columns, [])


def test_bigint_columns_read_back_every_value_in_order():
    values = [-(2**63), -1, 0, 1, 2**63 - 1]
    ids, doubled = bigint_columns(
        "SELECT v AS id, v / 2 * 2 AS doubled FROM unnest(%s::bigint[]) WITH ORDINALITY AS u(v, i) ORDER BY i",
        [values],
        ("id", "doubled"),
    )
    assert ids.tolist() == values and doubled.tolist() == [
        v // 2 * 2 if v >= 0 else -(-v // 2 * 2) for v in values
    ]
    empty = bigint_columns("SELECT 1::bigint AS id WHERE false", [], ("id",))
    assert [column.tolist() for column in empty] == [[]]
    for nulls in ("(3, NULL)", "(NULL, NULL)"):
        with pytest.raises(ValueError, match="NULL"):
            bigint_columns(
                f"SELECT * FROM (VALUES (1::bigint, 2::bigint), {nulls}) AS t(a, b)", [], ("a", "b")
            )


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(_TEXT, st.integers(-(2**31), 2**31 - 1), st.integers(-(2**15), 2**15 - 1)), max_size=30
    )
)
def test_read_columns_gives_back_text_moments_and_small_integers_in_order(rows):
    moments = [
        datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC) + timedelta(seconds=i * 86_401)
        for i in range(len(rows))
    ]
    texts, ints, smalls = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
    label, at, number, small = read_columns(
        "SELECT t, m, n, s FROM unnest(%s::text[], %s::timestamptz[], %s::int[], %s::smallint[])"
        " WITH ORDINALITY AS u(t, m, n, s, i) ORDER BY i",
        [texts, moments, ints, smalls],
        [("t", "text"), ("m", "timestamptz"), ("n", "int"), ("s", "smallint")],
    )
    assert label.to_pylist() == texts
    assert [_EPOCH + timedelta(microseconds=int(us)) for us in at] == moments
    assert number.tolist() == ints and small.tolist() == smalls
    with pytest.raises(ValueError, match="'t'"):
        read_columns("SELECT * FROM (VALUES ('a'), (NULL)) AS v(t)", [], [("t", "text")])
