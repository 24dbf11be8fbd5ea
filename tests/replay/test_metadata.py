from __future__ import annotations

from replay.metadata import ChunkStats, chunk_stats
from tests.replay import rrweb
from tests.replay.reference import combine

T = rrweb.T0 - rrweb.T0 % 1000  # on a second boundary


def test_active_seconds_count_each_second_with_input_once():
    stats = chunk_stats(
        [
            *rrweb.page(T),
            # positions 400 ms and 100 ms before the batch: seconds 2 and 2 (T+2600 → T+2200, T+2500)
            rrweb.mouse_move(T + 2600, -400, -100),
            rrweb.click(T + 5100),
            rrweb.scroll(T + 5900),  # same second as the click
            rrweb.typed(T + 9000),
            rrweb.focus(T + 12000),  # focus moves are not the visitor's input
            rrweb.mutation(T + 15000, adds=[rrweb.add(5, rrweb.text("tick"))]),
        ]
    )
    assert stats.active_seconds == 3
    assert stats.active_first_second == (T + 2200) // 1000
    assert stats.active_last_second == (T + 9000) // 1000


def test_pages_are_url_changes_including_single_page_navigations():
    stats = chunk_stats(
        [
            *rrweb.page(T, "https://app.example/"),
            rrweb.navigated(T + 1000, "https://app.example/board"),
            rrweb.meta(T + 2000, "https://app.example/board"),  # a checkout snapshot: same page
            *rrweb.page(T + 3000, "https://app.example/pricing"),
            *rrweb.page(T + 4000, "https://app.example/pricing"),  # a reload
        ]
    )
    assert stats.page_count == 3
    assert (stats.first_href, stats.last_href) == ("https://app.example/", "https://app.example/pricing")


def test_clicks_and_rage_clicks():
    burst = [rrweb.click(T + 100 * i, x=200 + i * 5, y=300) for i in range(5)]  # five clicks in 400 ms
    apart = [
        rrweb.click(T + 5000, x=10, y=10),
        rrweb.click(T + 5300, x=400, y=10),
        rrweb.click(T + 5600, x=10, y=400),
    ]
    slow = [rrweb.click(T + 9000 + 600 * i) for i in range(3)]  # 1.2 s from first to third
    stats = chunk_stats([*rrweb.page(T), *burst, *apart, *slow])
    assert stats.click_count == 11
    assert stats.rage_click_count == 1


def test_the_span_and_the_stop_reason():
    stopped = {
        "type": 5,
        "data": {"tag": "sightline/recording-stopped", "payload": {"reason": "mutation flood"}},
        "timestamp": T + 50,
    }
    stats = chunk_stats([rrweb.click(T + 90), *rrweb.page(T), stopped])
    assert (stats.first_ms, stats.last_ms, stats.event_count) == (T, T + 90, 4)
    assert stats.stop_reason == "mutation flood"


def _chunk(**fields) -> ChunkStats:
    return ChunkStats(first_ms=0, last_ms=0, event_count=1, **fields)


def test_combining_chunks_counts_a_straddling_second_and_page_once():
    chunks = [
        _chunk(active_seconds=3, active_first_second=10, active_last_second=14, page_count=2,
               first_href="/a", last_href="/b", click_count=2),
        _chunk(),  # nothing happened in this one
        _chunk(active_seconds=2, active_first_second=14, active_last_second=15, page_count=2,
               first_href="/b", last_href="/c", click_count=1, rage_click_count=1),
        _chunk(active_seconds=1, active_first_second=30, active_last_second=30, page_count=1,
               first_href="/a", last_href="/a", stop_reason="mutation flood"),
    ]  # fmt: skip
    totals = combine(chunks)
    assert totals.active_seconds == 3 + 2 - 1 + 1
    assert totals.page_count == 2 + 2 - 1 + 1  # /a /b /c /a
    assert (totals.click_count, totals.rage_click_count) == (3, 1)
    assert totals.first_url == "/a"
    assert totals.stop_reason == "mutation flood"
