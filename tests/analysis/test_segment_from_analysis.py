"""Segments from analyses: a funnel step, a comparison group, a retention cell and a paths node, saved as segments.

Each segment must hold exactly the people the analysis counts for that part —
checked against the analysis's own numbers on both event stores — record where
it came from, and link back.
"""

from __future__ import annotations

import re

import pytest

from analysis.compare import compare_compute, compare_params
from analysis.funnels import funnel_compute, funnel_params
from analysis.paths import paths_compute, paths_params
from analysis.reads import AnalysisTimeout
from analysis.retention import retention_compute, retention_params
from jobs.models import Job
from jobs.runner import execute
from segments.models import Segment, SegmentKind, SegmentMembership
from segments.refresh import refresh_project
from segments.services import segment_compute
from tests.analysis.conftest import NOW, UA_FIREFOX, UA_SAFARI, act, at, page
from tracking.models import PersonDistinctId

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("events_backend")]

CART = {
    "name": "$pageview",
    "where": [{"property": "$current_url", "operator": "contains", "value": "/cart"}],
}
FUNNEL = {
    "steps": [CART, {"name": "checkout_started"}, {"name": "purchase"}],
    "within": {"value": 1, "unit": "days"},
    "date_from": "2026-06-01",
    "date_to": "2026-06-14",
}


def api(project, path: str) -> str:
    return f"/api/v1/projects/{project.pk}/{path}"


def ids(project, *distinct_ids: str) -> set[int]:
    return set(
        PersonDistinctId.objects.filter(project=project, distinct_id__in=distinct_ids).values_list(
            "person_id", flat=True
        )
    )


def members(segment_id: int) -> set[int]:
    return set(
        SegmentMembership.objects.filter(segment_id=segment_id, exited_at__isnull=True).values_list(
            "person_id", flat=True
        )
    )


def save(client, project, source: str, params: dict, part: dict, **extra):
    return client.post(
        api(project, "analysis/segment/"),
        {"source": source, "params": params, "part": part, **extra},
        content_type="application/json",
    )


def saved(response) -> Segment:
    """The segment the API made, computed when dynamic (the background task's work)."""
    assert response.status_code == 201, response.content
    segment = Segment.objects.get(pk=response.json()["id"])
    if segment.is_dynamic:
        segment_compute(segment=segment)
    return segment


@pytest.fixture
def shop(collect):
    """Firefox f0…f5 and Safari s0…s5 view the cart on Jun 10.

    Firefox: f0…f4 start checkout, f0…f2 buy. Safari: s0…s2 start checkout, s0 buys.
    f1, f3, s1, s3 are on the "pro" plan, f0, f2, s0, s2 on "free"; the others have no plan.
    z0 starts checkout in May (not in the range).
    """
    for prefix, ua, started, bought in (("f", UA_FIREFOX, 5, 3), ("s", UA_SAFARI, 3, 1)):
        events = []
        for i in range(6):
            who = f"{prefix}{i}"
            traits = {"$set": {"plan": "pro" if i % 2 else "free"}} if i < 4 else {}
            events.append(page(who, "/cart", at(10, 9), **traits))
            if i < started:
                events.append(act("checkout_started", who, at(10, 9, 5)))
            if i < bought:
                events.append(act("purchase", who, at(10, 9, 10)))
        collect(events, headers={"HTTP_USER_AGENT": ua})
    collect([page("z0", "/cart", at(20, 9, month=5)), act("checkout_started", "z0", at(20, 9, 5, month=5))])


def _funnel_row(project, params: dict, value: str | None):
    result = funnel_compute(project=project, query=funnel_params(params, project=project))
    if value is None:
        return result.overall
    return next(row for row in result.rows if row.value == value)


HOURS = {**FUNNEL, "within": {"value": 36, "unit": "hours"}}
ROLLING = {**{k: v for k, v in FUNNEL.items() if not k.startswith("date_")}, "last_days": 30}


@pytest.mark.parametrize(
    ("params", "value", "kind"),
    [
        (FUNNEL, None, "dynamic"),
        ({**FUNNEL, "breakdown": {"type": "person", "property": "plan"}}, "pro", "dynamic"),
        ({**FUNNEL, "breakdown": {"type": "person", "property": "plan"}}, "", "static"),
        ({**FUNNEL, "breakdown": {"type": "browser"}}, "Safari", "static"),
        ({**FUNNEL, "breakdown": {"type": "browser"}}, None, "dynamic"),
        (HOURS, None, "static"),
        (ROLLING, None, "static"),
        ({**FUNNEL, "include_bots": True}, None, "static"),
    ],
    ids=[
        "plain",
        "person-value",
        "person-none",
        "browser-value",
        "browser-everyone",
        "hours",
        "rolling",
        "bots",
    ],
)
def test_a_segment_of_a_funnel_step_holds_exactly_the_funnels_count(
    shop, project, alice_client, params, value, kind
):
    row = _funnel_row(project, params, value)
    for step in (1, 2, 3):
        for outcome in ("converted", "dropped"):
            if outcome == "dropped" and step == 3:
                continue
            part = {"step": step, "outcome": outcome, "value": value}
            segment = saved(save(alice_client, project, "funnel", params, part))
            expected = row.steps[step - 1].count if outcome == "converted" else row.steps[step - 1].dropped
            assert segment.kind == kind and segment.origin["kept"] == kind
            assert segment.size == expected == len(members(segment.pk)), (step, outcome)


def test_a_segment_breakdown_value_becomes_a_segment_condition(shop, project, alice_client, segment_of):
    chosen = segment_of("Chosen", ["f0", "f3", "s1", "s4"])
    params = {**FUNNEL, "breakdown": {"type": "segment", "segments": [chosen.pk]}}
    part = {"step": 2, "outcome": "dropped", "value": str(chosen.pk)}
    segment = saved(save(alice_client, project, "funnel", params, part))
    assert segment.is_dynamic
    assert {"type": "segment", "segment": chosen.pk, "negate": False} in segment.definition["conditions"]
    assert members(segment.pk) == ids(project, "f3", "s1")


def test_a_drop_off_is_a_sequence_whose_range_bounds_the_first_step(shop, project, alice_client):
    segment = saved(save(alice_client, project, "funnel", FUNNEL, {"step": 2, "outcome": "dropped"}))
    (rule,) = segment.definition["conditions"]
    assert rule == {
        "type": "sequence", "steps": [CART, {"name": "checkout_started", "where": []}, {"name": "purchase", "where": []}],
        "within_days": 1, "last_step": "did_not", "window": {"from": "2026-06-01", "to": "2026-06-14"},
        "window_covers": "first_step",
    }  # fmt: skip
    assert segment.versions.count() == 1
    assert members(segment.pk) == ids(project, "f3", "f4", "s1", "s2")


def test_a_purchase_after_the_range_ends_still_converts_as_in_the_funnel(
    shop, project, alice_client, collect
):
    """Cart and checkout on the range's last evening, the purchase just after midnight: the funnel counts it."""
    collect([
        page("eve", "/cart", at(14, 22)), act("checkout_started", "eve", at(14, 23)),
        act("purchase", "eve", at(15, 1)),
    ])  # fmt: skip
    bought = saved(save(alice_client, project, "funnel", FUNNEL, {"step": 3, "outcome": "converted"}))
    dropped = saved(save(alice_client, project, "funnel", FUNNEL, {"step": 2, "outcome": "dropped"}))
    row = _funnel_row(project, FUNNEL, None)
    assert ids(project, "eve") <= members(bought.pk) and len(members(bought.pk)) == row.steps[2].count == 5
    assert not ids(project, "eve") & members(dropped.pk)


def test_a_dynamic_drop_off_segment_stays_live(shop, project, alice_client, collect):
    live = {**FUNNEL, "date_to": "2026-06-30"}
    segment = saved(save(alice_client, project, "funnel", live, {"step": 2, "outcome": "dropped"}))
    before = members(segment.pk)
    collect([page("late", "/cart", at(30, 9)), act("checkout_started", "late", at(30, 9, 5))])
    refresh_project(project.pk)
    assert members(segment.pk) == before | ids(project, "late")
    collect([act("purchase", "late", at(30, 10))])
    refresh_project(project.pk)
    assert members(segment.pk) == before
    assert len(members(segment.pk)) == _funnel_row(project, live, None).steps[1].dropped


def test_the_drop_offs_are_the_people_who_stopped_at_that_step(shop, project, alice_client):
    firefox = {**FUNNEL, "breakdown": {"type": "browser"}}
    part = {"step": 1, "outcome": "dropped", "value": "Firefox"}
    assert members(saved(save(alice_client, project, "funnel", firefox, part)).pk) == ids(project, "f5")
    part = {"step": 3, "outcome": "converted"}
    bought = saved(save(alice_client, project, "funnel", HOURS, part))
    assert members(bought.pk) == ids(project, "f0", "f1", "f2", "s0")


def test_the_origin_is_recorded_and_exposed_and_the_segment_page_links_back(shop, project, alice_client):
    response = save(
        alice_client, project, "funnel", {**FUNNEL, "breakdown": {"type": "browser"}},
        {"step": 2, "outcome": "dropped", "value": "Safari"}, name="Safari checkout drop-offs",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    origin = response.json()["origin"]
    assert origin["kind"] == "funnel" and origin["kept"] == "static"
    assert origin["part"] == {"step": 2, "outcome": "dropped", "value": "Safari"}
    assert "drop-offs after step 2" in origin["label"] and "browser “Safari”" in origin["label"]
    assert origin["link"].startswith(f"/p/{project.pk}/analysis/funnels/?")
    segment = Segment.objects.get(pk=response.json()["id"])
    assert segment.name == "Safari checkout drop-offs" and segment.origin == origin
    fetched = alice_client.get(api(project, f"segments/{segment.pk}/")).json()
    assert fetched["origin"] == origin
    page_ = alice_client.get(f"/p/{project.pk}/segments/{segment.pk}/")
    assert page_.status_code == 200
    html = page_.content.decode()
    assert 'id="segment-origin"' in html and "drop-offs after step 2" in html
    assert origin["link"].replace("&", "&amp;") in html
    back = alice_client.get(origin["link"])
    assert back.status_code == 200
    shown = back.content.decode()
    assert "4 dropped here" in shown and ">2 dropped</a>" in shown  # everyone, and the Safari row


def test_the_save_page_names_the_part_asks_for_a_name_and_redirects_to_the_segment(
    shop, project, alice_client
):
    funnel_page = alice_client.get(
        f"/p/{project.pk}/analysis/funnels/",
        {"step": ["e:$pageview", "e:checkout_started", "e:purchase"], "within_value": "1", "within_unit": "days",
         "last_days": "", "date_from": "2026-06-01", "date_to": "2026-06-14"},
    )  # fmt: skip
    html = funnel_page.content.decode()
    assert "save as segment" in html
    links = [h.replace("&amp;", "&") for h in re.findall(r'class="[^"]*save-segment" href="([^"]+)"', html)]
    assert len(links) == 5  # each step's conversions, and the drop-offs after steps 1 and 2
    link = next(h for h in links if "part_step=1&part_outcome=dropped" in h)
    shown = alice_client.get(link)
    assert shown.status_code == 200
    text = shown.content.decode()
    assert "drop-offs after step 1" in text and "Kept live" in text
    assert 'value="Dropped after Page view"' in text
    created = alice_client.post(link, {"name": "Left at the cart"})
    assert created.status_code == 302
    segment = Segment.objects.get(project=project, name="Left at the cart")
    assert created.url == f"/p/{project.pk}/segments/{segment.pk}/"
    assert segment.kind == SegmentKind.DYNAMIC and segment.origin["kept"] == "dynamic"
    segment_compute(segment=segment)
    assert members(segment.pk) == ids(project, "f5", "s3", "s4", "s5")
    static = alice_client.get(link.replace("within_unit=days", "within_unit=hours")).content.decode()
    assert "kept as a fixed list" in static and "not whole days" in static


def test_a_blank_name_is_refused_by_name_on_the_page(shop, project, alice_client):
    url = f"/p/{project.pk}/analysis/segment/?source=funnel&step=e:$pageview&step=e:checkout_started&date_from=2026-06-01&date_to=2026-06-14&part_step=1"
    response = alice_client.post(url, {"name": " "})
    assert response.status_code == 200
    assert "Name: This field is required." in response.content.decode()
    assert not Segment.objects.filter(project=project).exists()


def test_a_static_segment_does_not_change_when_someone_else_drops_off_later(
    shop, project, alice_client, collect
):
    segment = saved(save(alice_client, project, "funnel", HOURS, {"step": 2, "outcome": "dropped"}))
    before = members(segment.pk)
    assert segment.kind == SegmentKind.STATIC and len(before) == 4
    collect([page("late", "/cart", at(12, 9)), act("checkout_started", "late", at(12, 9, 5))])
    refresh_project(project.pk)
    assert _funnel_row(project, HOURS, None).steps[1].dropped == len(before) + 1
    assert members(segment.pk) == before
    assert Segment.objects.get(pk=segment.pk).size == len(before)


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "params", "part", "field"),
    [
        ("funnel", FUNNEL, {"step": 3, "outcome": "dropped"}, "part.step"),
        ("funnel", FUNNEL, {"step": 0}, "part.step"),
        ("funnel", FUNNEL, {"step": 4, "outcome": "converted"}, "part.step"),
        ("funnel", FUNNEL, {"step": "two"}, "part.step"),
        ("funnel", FUNNEL, {"step": 1, "outcome": "left"}, "part.outcome"),
        ("funnel", FUNNEL, {"step": 1, "value": "Safari"}, "part.value"),
        ("funnel", FUNNEL, ["step", 1], "part"),
        ("funnel", {**FUNNEL, "steps": [CART]}, {"step": 1}, "params.steps"),
        ("funnel", {**FUNNEL, "steps": [CART, {"name": ""}]}, {"step": 1}, "params.steps[1].name"),
        ("sankey", FUNNEL, {"step": 1}, "source"),
        ("retention", {"date_from": "2026-06-01", "date_to": "2026-06-14"}, {"cohort": "2026-06-03"}, "part.cohort"),
        ("retention", {"date_from": "2026-06-01", "date_to": "2026-06-14"}, {"cohort": "June"}, "part.cohort"),
        ("retention", {"date_from": "2026-06-01", "date_to": "2026-06-14", "periods": 3},
         {"cohort": "2026-06-01", "period": 3}, "part.period"),
        ("retention", {"date_from": "2026-06-01", "date_to": "2026-06-14"}, {"cohort": "2026-06-01", "group": 999},
         "part.group"),
        ("paths", {"date_from": "2026-06-01", "date_to": "2026-06-14", "start": {"path": "/cart"}},
         {"path": ["/nowhere"]}, "part.path"),
        ("paths", {"date_from": "2026-06-01", "date_to": "2026-06-14", "start": {"path": "/cart"}},
         {"path": [None, "/x"]}, "part.path[0]"),
        ("paths", {"date_from": "2026-06-01", "date_to": "2026-06-14", "start": {"path": "/cart"}},
         {"path": []}, "part.path"),
    ],
)  # fmt: skip
def test_bad_input_is_a_400_naming_the_field(shop, project, alice_client, source, params, part, field):
    response = save(alice_client, project, source, params, part)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Segment.objects.filter(project=project).exists()


def test_bad_input_on_the_page_is_named_and_never_a_500(shop, project, alice_client):
    base = f"/p/{project.pk}/analysis/segment/?source=funnel&step=e:$pageview&step=e:checkout_started&date_from=2026-06-01&date_to=2026-06-14"
    out_of_range = alice_client.get(f"{base}&part_step=2")
    assert out_of_range.status_code == 400
    assert "must be between 1 and 1" in out_of_range.content.decode()
    assert alice_client.post(f"{base}&part_step=x", {"name": "n"}).status_code == 400
    assert alice_client.get(f"/p/{project.pk}/analysis/segment/?source=nope").status_code == 400
    assert alice_client.get(f"/p/{project.pk}/analysis/segment/").status_code == 400
    assert not Segment.objects.filter(project=project).exists()


def test_another_projects_member_gets_404(shop, project, bob_client):
    assert save(bob_client, project, "funnel", FUNNEL, {"step": 1}).status_code == 404
    url = f"/p/{project.pk}/analysis/segment/?source=funnel&step=e:$pageview&step=e:checkout_started&part_step=1"
    assert bob_client.get(url).status_code == 404
    assert bob_client.post(url, {"name": "mine"}).status_code == 404
    assert not Segment.objects.exists()


def test_a_segment_of_another_project_cannot_be_a_breakdown(shop, project, other_project, alice_client):
    theirs = Segment.objects.create(project=other_project, name="Theirs", kind=SegmentKind.STATIC)
    params = {**FUNNEL, "breakdown": {"type": "segment", "segments": [theirs.pk]}}
    response = save(alice_client, project, "funnel", params, {"step": 1, "value": str(theirs.pk)})
    assert response.status_code == 400 and "params.breakdown.segments[0]" in response.json()


# -- comparisons, retention, paths ---------------------------------------------------------------


def test_a_segment_of_a_comparison_group_holds_the_groups_persons(shop, project, alice_client, segment_of):
    firefox = segment_of("Firefox people", [f"f{i}" for i in range(6)] + ["z0"])
    plan = segment_of("Some", ["f0", "s0", "s1"])
    metric = {"kind": "conversion", "definition": {"from": CART, "to": {"name": "purchase"}, "within": {"value": 1, "unit": "days"}}}  # fmt: skip
    for segments, vs_rest in (([firefox.pk, plan.pk], False), ([firefox.pk], True)):
        params = {"metric": metric, "segments": segments, "vs_rest": vs_rest, "date_from": "2026-06-01", "date_to": "2026-06-14"}  # fmt: skip
        result = compare_compute(project=project, query=compare_params(params, project=project), now=NOW)
        for index, group in enumerate(result.groups):
            response = save(alice_client, project, "compare", params, {"group": index})
            assert response.status_code == 201, response.content
            assert response.json()["size"] == group.n == len(members(response.json()["id"])), group.label
    rest = Segment.objects.filter(project=project, name__startswith="Not in Firefox").get()
    assert members(rest.pk) == ids(project, *(f"s{i}" for i in range(6)))
    assert "the group “Not in Firefox people”" in rest.origin["label"]
    bad = save(alice_client, project, "compare", params, {"group": 2})
    assert bad.status_code == 400 and "part.group" in bad.json()


@pytest.fixture
def cohorts(collect, segment_of):
    """Weekly cohorts of Jun 1 (a1, a2, a3) and Jun 8 (b1, b2); returns as in test_retention."""
    collect([
        page("a1", "/", at(1, 10)), act("signup", "a1", at(9)), page("a1", "/", at(16)),
        page("a2", "/", at(2, 12)), page("a2", "/", at(10, 13)),
        page("a3", "/", at(3)),
        page("b1", "/", at(9)), page("b1", "/", at(17)),
        page("b2", "/", at(10)), page("b2", "/", at(11)),
    ])  # fmt: skip
    return segment_of("Early birds", ["a1", "b1"])


def test_a_segment_of_a_retention_cell_holds_the_cells_persons(cohorts, project, alice_client):
    params = {"date_from": "2026-06-01", "date_to": "2026-06-14", "periods": 3, "segments": [cohorts.pk]}
    result = retention_compute(project=project, query=retention_params(params, project=project))
    checked = 0
    for row in result.rows:
        for cell in row.cells:
            part = {"cohort": row.cohort.isoformat(), "group": row.segment_id, "period": cell.period}
            response = save(alice_client, project, "retention", params, part)
            assert response.status_code == 201, response.content
            assert response.json()["size"] == cell.count == len(members(response.json()["id"]))
            checked += 1
        response = save(
            alice_client,
            project,
            "retention",
            params,
            {"cohort": row.cohort.isoformat(), "group": row.segment_id},
        )
        assert response.json()["size"] == row.size
    assert checked == 12
    week_one = save(alice_client, project, "retention", params, {"cohort": "2026-06-01", "period": 1})
    assert members(week_one.json()["id"]) == ids(project, "a1", "a2")


def test_a_segment_of_a_paths_node_holds_the_nodes_persons(collect, project, alice_client, segment_of):
    collect([
        page("p1", "/home", at(2, 9)), page("p1", "/pricing", at(2, 9, 1)), page("p1", "/signup", at(2, 9, 3)),
        page("p1", "/welcome", at(2, 9, 4)),
        page("p2", "/pricing", at(3, 9)), page("p2", "/docs", at(3, 9, 1)),
        page("p3", "/pricing", at(5, 9)), page("p3", "/signup", at(5, 9, 1)),
        page("p4", "/pricing", at(6, 9)),
        *[page(f"q{i}", "/pricing", at(7, 9)) for i in range(7)],
        *[page(f"q{i}", f"/page-{i}", at(7, 9, 1)) for i in range(7)],
    ])  # fmt: skip
    early = segment_of("Early", ["p1", "p2"])
    params = {
        "date_from": "2026-06-01",
        "date_to": "2026-06-14",
        "start": {"path": "/pricing"},
        "segments": [early.pk],
    }
    result = paths_compute(project=project, query=paths_params(params, project=project))
    checked = 0

    def walk(group, nodes, path):
        nonlocal checked
        for node in nodes:
            step = {"other": True} if node.folded else node.label
            response = save(
                alice_client, project, "paths", params, {"group": group.segment_id, "path": [*path, step]}
            )
            assert response.status_code == 201, response.content
            assert response.json()["size"] == node.count == len(members(response.json()["id"])), [*path, step]
            checked += 1
            walk(group, node.children, [*path, step])

    for group in result.groups:
        walk(group, group.children, [])
    assert checked >= 10
    folded = Segment.objects.filter(project=project, origin__part__path=[{"other": True}]).get()
    assert folded.size == 4  # ten first steps (the session's end among them): the top six shown, four folded
    signup = save(alice_client, project, "paths", params, {"path": ["/signup"]})
    assert members(signup.json()["id"]) == ids(project, "p1", "p3")


def test_a_slow_static_copy_shows_its_job_then_links_the_segment(shop, project, alice_client, settings):
    settings.ANALYSIS_JOBS = "worker"  # no worker runs here: the copy waits as a queued job
    url = (
        f"/p/{project.pk}/analysis/segment/?source=funnel&step=e:$pageview&step=e:checkout_started"
        "&within_value=36&within_unit=hours&date_from=2026-06-01&date_to=2026-06-14&part_step=1"
    )
    waiting = alice_client.post(url, {"name": "Left at the cart"})
    assert waiting.status_code == 200
    assert 'class="card job-progress"' in waiting.content.decode()
    job = Job.objects.get(project=project, kind="analysis_segment")
    assert job.status == "queued" and not Segment.objects.filter(project=project).exists()
    api_answer = save(alice_client, project, "funnel", HOURS, {"step": 1}, name="Via the API")
    assert api_answer.status_code == 202 and "job" in api_answer.json()
    Job.objects.filter(pk=job.pk).update(status="running")  # as a worker claims it
    execute(job.pk)
    segment = Segment.objects.get(project=project, name="Left at the cart")
    assert members(segment.pk) == ids(project, "f5", "s3", "s4", "s5") and not segment.is_dynamic
    panel = alice_client.get(f"/p/{project.pk}/jobs/{job.pk}/?view=page")
    assert panel.status_code == 200
    assert f'href="/p/{project.pk}/segments/{segment.pk}/"' in panel.content.decode()
    assert Job.objects.get(pk=job.pk).status == "done"


def test_an_analysis_past_its_time_limit_is_said_and_not_a_500(shop, project, alice_client, monkeypatch):
    import analysis.segment_sources

    def too_slow(**kwargs):
        raise AnalysisTimeout

    monkeypatch.setattr(analysis.segment_sources, "paths_compute", too_slow)
    params = {"date_from": "2026-06-01", "date_to": "2026-06-14", "start": {"path": "/cart"}}
    response = save(alice_client, project, "paths", params, {"path": [None]})
    assert response.status_code == 503 and "took longer than" in response.json()["detail"]
    page_ = alice_client.get(
        f"/p/{project.pk}/analysis/segment/?source=paths&start_path=/cart&date_from=2026-06-01&date_to=2026-06-14&part_last=ended"
    )
    assert page_.status_code == 503 and "took longer than" in page_.content.decode()
    assert not Segment.objects.filter(project=project).exists()


AWKWARD = [
    "³",
    "9" * 30,
    "-1",
    '{"match": "all", "conditions": [',
    "2026-13-45",
    "x" * 5000,
    "<script>'\"&",
    "",
    "\x00",
]
PAGE_PARAMS = {
    "funnel": "step=e:$pageview&step=e:checkout_started&date_from=2026-06-01&date_to=2026-06-14",
    "compare": "segments=1&segments=2&date_from=2026-06-01&date_to=2026-06-14",
    "retention": "date_from=2026-06-01&date_to=2026-06-14",
    "paths": "start_path=/cart&date_from=2026-06-01&date_to=2026-06-14",
}


@pytest.mark.parametrize("value", AWKWARD)
def test_awkward_part_fields_are_never_a_500(shop, project, alice_client, value):
    for source, query in PAGE_PARAMS.items():
        for field in (
            "part_step",
            "part_outcome",
            "part_value",
            "part_group",
            "part_cohort",
            "part_period",
            "part_path",
            "part_last",
        ):
            url = f"/p/{project.pk}/analysis/segment/?source={source}&{query}"
            response = alice_client.get(url, {field: value})
            assert response.status_code in (200, 400), (source, field, response.status_code)
            response = alice_client.post(f"{url}&{field}={value[:100]}", {"name": value[:300]})
            assert response.status_code in (200, 302, 400), (source, field, response.status_code)
