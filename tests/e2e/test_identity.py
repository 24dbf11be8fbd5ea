from __future__ import annotations

import pytest

from tests.e2e.helpers import flush, stored_events
from tracking.models import Company, Person, PersonDistinctId

pytestmark = pytest.mark.e2e


def test_identify_links_the_anonymous_visitor_to_the_known_person(page):
    page.goto("/demo/welcome/")
    flush(page)
    [anonymous_view] = stored_events(page)
    anonymous_id = anonymous_view.distinct_id

    page.evaluate(
        """() => {
          sightline.identify("dana@brightpath.test", { email: "dana@brightpath.test", name: "Dana Whitfield" });
          sightline.group("brightpath", { name: "Brightpath Studio", employees: 40 });
          sightline.capture("teammate_invited", { via: "checklist" });
          return sightline.flush();
        }"""
    )

    events = stored_events(page, lambda es: len(es) == 4)
    assert [e.name for e in events] == ["$pageview", "$identify", "$groupidentify", "teammate_invited"]
    identify = events[1]
    assert identify.distinct_id == "dana@brightpath.test"
    assert identify.properties["$anon_distinct_id"] == anonymous_id
    assert events[3].distinct_id == "dana@brightpath.test"
    assert events[3].properties["via"] == "checklist"
    [person] = Person.objects.all()
    assert set(PersonDistinctId.objects.filter(person=person).values_list("distinct_id", flat=True)) == {
        anonymous_id,
        "dana@brightpath.test",
    }
    assert person.properties["email"] == "dana@brightpath.test"
    assert {e.person_id for e in events} == {person.pk}
    company = Company.objects.get(key="brightpath")
    assert company.properties["name"] == "Brightpath Studio"
    assert person.company == company


def test_the_visitor_is_remembered_across_pages_and_forgotten_on_reset(page):
    page.goto("/demo/")
    page.click("#hero-see-pricing")
    page.wait_for_url("**/demo/pricing/")
    page.evaluate("() => sightline.reset()")
    page.evaluate("() => sightline.capture('after_reset')")
    flush(page)

    events = stored_events(
        page, lambda es: len([e for e in es if e.name == "$pageview"]) == 2 and es[-1].name == "after_reset"
    )
    landing, pricing = [e for e in events if e.name == "$pageview"]
    after_reset = events[-1]
    assert after_reset.name == "after_reset"
    assert landing.distinct_id == pricing.distinct_id
    assert landing.session_key == pricing.session_key
    assert after_reset.distinct_id != landing.distinct_id
    assert after_reset.session_key != landing.session_key


def test_a_session_ends_after_thirty_minutes_without_activity(page):
    page.clock.install()
    page.goto("/demo/board/")
    page.clock.fast_forward("29:00")
    page.evaluate("() => sightline.capture('still_here')")
    page.clock.fast_forward("30:01")
    page.evaluate("() => sightline.capture('back_later')")
    flush(page)

    # The fake clock moves the client an hour ahead; the server corrects timestamps by
    # `sent_at`, so compare events by name rather than by stored time.
    events = {e.name: e for e in stored_events(page, lambda es: len(es) == 3)}
    assert set(events) == {"$pageview", "still_here", "back_later"}
    assert events["still_here"].session_key == events["$pageview"].session_key
    assert events["back_later"].session_key != events["still_here"].session_key
    assert len({e.distinct_id for e in events.values()}) == 1
