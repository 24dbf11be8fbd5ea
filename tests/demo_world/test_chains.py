"""Actions defined by selector on the demo site's real elements match the seeded clicks."""

from __future__ import annotations

import pytest
from django.db import connection

from demo import site as demo_site
from tracking.matching.actions import action_where_sql, event_matches, validate_steps
from tracking.matching.selectors import chain_matches

pytestmark = pytest.mark.django_db

# Listed on the demo site, never clicked by generated people: the banner leads to
# Sightline itself, and the Board tab is the view the board opens on.
NOT_GENERATED = {("landing", "banner-link"), ("board", "tab-board")}


def selector_for(element: dict) -> str:
    """A CSS selector for an element as a person would write it from the page: tag, id, classes, data attributes."""
    selector = element["tag"]
    if element.get("id"):
        selector += f"#{element['id']}"
    for cls in element.get("classes", []):
        selector += f".{cls}"
    for name, value in element.get("attrs", {}).items():
        if name.startswith("data-"):
            selector += f'[{name}="{value}"]'
    return selector


ELEMENTS = [
    (page.key, name, chain)
    for page in demo_site.PAGES
    for name, chain in page.elements.items()
    if (page.key, name) not in NOT_GENERATED
]


def _steps(element: dict) -> list[dict]:
    return validate_steps([{"event": "$autocapture", "selector": selector_for(element)}], check_regex=False)


def _matching(project_id: int, steps: list[dict]) -> list[dict]:
    """Matching events, one row per distinct (name, url, text, link, chain) with its count."""
    where, params = action_where_sql(steps, alias="e")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.name, e.url, e.el_text, e.href, e.elements_chain, count(*) FROM tracking_event e"
            f" WHERE e.project_id = %s AND {where} GROUP BY 1, 2, 3, 4, 5",
            [project_id, *params],
        )
        columns = ("name", "url", "el_text", "href", "elements_chain", "count")
        return [dict(zip(columns, row, strict=True), properties={}) for row in cursor.fetchall()]


@pytest.fixture(scope="module")
def clicks(world, django_db_blocker) -> list[dict]:
    """Every distinct clicked element of the world, with whether each element's action matches it in SQL.

    The actions' SQL runs over the distinct clicks rather than every event:
    PostgreSQL caches only a few dozen compiled regular expressions, and
    alternating between more of them row by row would recompile each time.
    """
    flags, params = [], []
    for _, _, chain in ELEMENTS:
        where, more = action_where_sql(_steps(chain[0]), alias="d")
        flags.append(where)
        params += more
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.name, d.url, d.el_text, d.href, d.elements_chain, {', '.join(flags)} FROM ("
            " SELECT name, url, el_text, href, elements_chain FROM tracking_event"
            " WHERE project_id = %s AND name = '$autocapture' GROUP BY 1, 2, 3, 4, 5) d",
            [*params, world.project.pk],
        )
        rows = cursor.fetchall()
    columns = ("name", "url", "el_text", "href", "elements_chain")
    return [dict(zip(columns, row[:5], strict=True), properties={}, sql=list(row[5:])) for row in rows]


@pytest.mark.parametrize("index", range(len(ELEMENTS)), ids=[f"{p}:{n}" for p, n, _ in ELEMENTS])
def test_an_action_on_a_demo_element_matches_seeded_events_in_sql_and_in_python(clicks, index):
    page, name, chain = ELEMENTS[index]
    steps = _steps(chain[0])

    in_sql = [row for row in clicks if row["sql"][index]]
    in_python = [row for row in clicks if event_matches(steps, row)]

    assert in_sql, f"no seeded click on {page}:{name} ({steps[0]['selector']})"
    assert in_sql == in_python
    # the target is the element itself or something inside it
    assert all(chain_matches(steps[0]["selector"], row["elements_chain"]) for row in in_sql)


def test_the_pay_button_action_matches_only_clicks_on_the_pay_button(world):
    steps = [{"event": "$autocapture", "selector": "#checkout-pay"}]

    matched = _matching(world.project.pk, steps)

    assert matched
    assert {row["el_text"] for row in matched} == {"Pay $180 and upgrade"}
    assert {row["url"].split("?")[0] for row in matched} == {"https://tasklane.example/demo/checkout/"}


def test_rage_and_dead_clicks_match_by_selector_too(world):
    for event in ("$rageclick", "$dead_click"):
        assert _matching(world.project.pk, [{"event": event, "selector": "button#checkout-pay"}])
        assert _matching(world.project.pk, [{"event": event, "selector": "#export-board"}])


def test_a_selector_for_an_element_not_on_the_page_matches_nothing(world):
    assert _matching(world.project.pk, [{"event": "$autocapture", "selector": "#no-such-button"}]) == []
