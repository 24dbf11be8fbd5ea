"""Paths: the most common next (and previous) steps after a page or an action, by segment."""

from __future__ import annotations

import pytest

from analysis.params import ParamError
from analysis.paths import paths_compute, paths_params
from tests.analysis.conftest import act, at, page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("events_backend")]

TRIAL = [{"tag": "button", "text": "Start trial", "attr_id": "trial"}, {"tag": "body"}]


@pytest.fixture
def visits(collect, segment_of):
    """
    p1: /home → /pricing → /pricing (reload) → /signup → /welcome → /docs
    p2: /pricing → /docs
    p3: /blog → /pricing (session ends); another session: /pricing → /signup
    p4: /pricing → click “Start trial” → /signup
    """
    collect([
        page("p1", "/home", at(2, 9)), page("p1", "/pricing", at(2, 9, 1)), page("p1", "/pricing", at(2, 9, 2)),
        page("p1", "/signup", at(2, 9, 3)), page("p1", "/welcome", at(2, 9, 4)), page("p1", "/docs", at(2, 9, 5)),
        page("p2", "/pricing", at(3, 9)), page("p2", "/docs", at(3, 9, 1)),
        page("p3", "/blog", at(4, 9), session="s3a"), page("p3", "/pricing", at(4, 9, 1), session="s3a"),
        page("p3", "/pricing", at(5, 9), session="s3b"), page("p3", "/signup", at(5, 9, 1), session="s3b"),
        page("p4", "/pricing", at(6, 9)), act("$autocapture", "p4", at(6, 9, 1), **{"$elements": TRIAL}),
        page("p4", "/signup", at(6, 9, 2)),
    ])  # fmt: skip
    return segment_of("First two", ["p1", "p2"])


def run(project, **params):
    params = {"date_from": "2026-06-01", "date_to": "2026-06-14", "start": {"path": "/pricing"}, **params}
    return paths_compute(project=project, query=paths_params(params, project=project))


def flow(nodes) -> list:
    return [(node.display, node.count, flow(node.children)) for node in nodes]


def test_the_next_pages_after_a_page(visits, project):
    everyone = run(project).groups[0]
    assert everyone.persons == 4
    assert flow(everyone.children) == [
        ("/signup", 2, [("/welcome", 1, [("/docs", 1, [])]), ("(session ends)", 1, [])]),
        ("/docs", 1, [("(session ends)", 1, [])]),
        ("(session ends)", 1, []),
    ]


def test_all_events_show_clicks_between_pages(visits, project):
    everyone = run(project, steps="events").groups[0]
    p4_path = next(node for node in everyone.children if node.label == "click “Start trial”")
    assert (p4_path.count, flow(p4_path.children)) == (1, [("/signup", 1, [("(session ends)", 1, [])])])


def test_the_previous_pages_before_a_page(visits, project):
    everyone = run(project, start={"path": "/signup"}, direction="previous").groups[0]
    assert everyone.persons == 3
    assert flow(everyone.children) == [
        ("/pricing", 3, [("(session starts)", 2, []), ("/home", 1, [("(session starts)", 1, [])])]),
    ]


def test_paths_without_session_rows_stay_in_the_anchor_session(visits, project):
    """The session's first and last moments only bound the reading; without its row, the session key does."""
    from tracking.models import Session

    forward = flow(run(project).groups[0].children)
    backward = flow(run(project, start={"path": "/signup"}, direction="previous").groups[0].children)
    Session.objects.filter(project=project).delete()
    assert flow(run(project).groups[0].children) == forward
    assert flow(run(project, start={"path": "/signup"}, direction="previous").groups[0].children) == backward


def test_paths_from_an_action_split_by_segment(visits, project):
    from tracking.services.actions import action_create

    docs = action_create(
        project=project, user=None, name="Read docs", steps=[{"event": "$pageview", "url": "/docs"}]
    )
    result = run(project, start={"action": docs.pk}, direction="previous", segments=[visits.pk])
    assert [(g.label, g.persons) for g in result.groups] == [("Everyone", 2), ("First two", 2)]
    assert flow(result.groups[1].children) == [
        ("/pricing", 1, [("(session starts)", 1, [])]),
        ("/welcome", 1, [("/signup", 1, [("/pricing", 1, [])])]),
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": {"path": "pricing"}}, "start.path"),
        ({"start": {"path": ""}}, "start.path"),
        ({"start": {"name": "x", "where": "plan"}}, "start.where"),
        ({"direction": "sideways"}, "direction"),
        ({"steps": "clicks"}, "steps"),
        ({"start": None}, "start"),
    ],
)
def test_bad_path_parameters_name_the_field(project, params, field):
    with pytest.raises(ParamError) as error:
        paths_params({"start": {"path": "/pricing"}, **params}, project=project)
    assert field in error.value.errors, error.value.errors
