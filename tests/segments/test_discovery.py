"""Suggestions for the builder; those read from events run on both event stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from segments.selectors import discovery
from tests.ingest.conftest import event

pytestmark = pytest.mark.django_db

UA_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.1 Mobile/15E148 Safari/604.1"
)


def values(suggestions) -> list[str]:
    return [s.value for s in suggestions]


def counts(suggestions) -> dict[str, int]:
    return {s.value: s.count for s in suggestions}


def ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


@pytest.fixture
def seen(send):
    """Three identified people, a company, purchases, an old event and survey answers, sent for real."""
    batch = [
        event("$identify", "ada", session_id="s-ada", **{"$set": {"email": "ada@acme.test", "plan": "pro"}}),
        event(
            "$identify",
            "grace",
            session_id="s-grace",
            **{"$set": {"email": "grace@acme.test", "plan": "pro", "beta": True}},
        ),
        event("$identify", "linus", session_id="s-linus", **{"$set": {"plan": "free"}}),
        event(
            "$groupidentify",
            "ada",
            session_id="s-ada",
            **{"$group_key": "acme", "$group_set": {"industry": "retail", "seats": 40}},
        ),
        event("purchase", "ada", session_id="s-ada", amount=20, currency="EUR"),
        event("purchase", "grace", session_id="s-grace", amount=99, currency="EUR"),
        event("purchase", "linus", session_id="s-linus", amount=20, coupon="SPRING"),
        event("purchase", "linus", session_id="s-old", timestamp=ago(60), amount=5, legacy_field="x"),
        event(
            "$survey_response",
            "ada",
            session_id="s-ada",
            **{"$survey": "nps", "$answers": {"score": 9, "goal": "plan"}},
        ),
        event(
            "$survey_response", "grace", session_id="s-grace", **{"$survey": "nps", "$answers": {"score": 9}}
        ),
        event(
            "$survey_response",
            "linus",
            session_id="s-linus",
            **{"$survey": "onboarding", "$answers": {"role": "eng"}},
        ),
    ]
    response = send(batch)
    assert response.status_code == 200 and response.json()["accepted"] == len(batch), response.content
    response = send(
        [event("$pageview", "linus", session_id="s-phone")], headers={"HTTP_USER_AGENT": UA_IPHONE}
    )
    assert response.json()["accepted"] == 1


def test_event_names_are_the_names_ingested(project, seen):
    assert discovery.event_names(project=project) == [
        "$groupidentify", "$identify", "$pageview", "$survey_response", "purchase",
    ]  # fmt: skip


def test_person_property_keys_come_most_common_first(project, seen):
    found = counts(discovery.person_property_keys(project=project))
    assert found["plan"] == 3 and found["email"] == 2 and found["beta"] == 1
    assert values(discovery.person_property_keys(project=project))[0] == "plan"


def test_company_property_keys_and_values(project, seen):
    assert values(discovery.company_property_keys(project=project)) == ["industry", "seats"]
    assert counts(discovery.company_property_values(project=project, key="industry")) == {"retail": 1}


def test_event_property_keys_are_those_of_that_event_in_the_recent_window(events_backend, project, seen):
    keys = counts(discovery.event_property_keys(project=project, event="purchase"))
    assert keys["amount"] == 3 and keys["currency"] == 2 and keys["coupon"] == 1
    # the 60-day-old purchase is outside the 30-day window
    assert "legacy_field" not in keys
    assert "legacy_field" in values(discovery.event_property_keys(project=project, event="purchase", days=90))


def test_structural_keys_are_not_offered_as_event_properties(events_backend, project, seen):
    assert "$set" not in values(discovery.event_property_keys(project=project, event="$identify"))


def test_the_most_common_values_of_a_property(events_backend, project, seen):
    assert discovery.person_property_values(project=project, key="plan")[0] == discovery.Suggestion("pro", 2)
    assert counts(discovery.person_property_values(project=project, key="beta")) == {"true": 1}
    assert counts(discovery.event_property_values(project=project, event="purchase", key="amount")) == {
        "20": 2,
        "99": 1,
    }


def test_session_values_come_from_parsed_user_agents(project, seen):
    assert counts(discovery.session_values(project=project, column="browser")) == {"Chrome": 4, "Safari": 1}
    assert counts(discovery.session_values(project=project, column="device_type")) == {
        "desktop": 4,
        "mobile": 1,
    }
    assert counts(discovery.session_values(project=project, column="os")) == {"Linux": 4, "iOS": 1}
    with pytest.raises(ValueError):
        discovery.session_values(project=project, column="ip; drop table x")


def test_surveys_questions_and_answers(events_backend, project, seen):
    assert counts(discovery.survey_keys(project=project)) == {"nps": 2, "onboarding": 1}
    assert counts(discovery.survey_questions(project=project, survey="nps")) == {"score": 2, "goal": 1}
    assert counts(discovery.survey_answers(project=project, survey="nps", question="score")) == {"9": 2}


def test_another_projects_data_is_never_suggested(project, other_project, seen, send):
    response = send(
        [event("$identify", "bobs-user", **{"$set": {"secret_trait": "x"}})], api_key=other_project.public_key
    )
    assert response.json()["accepted"] == 1
    assert "secret_trait" not in values(discovery.person_property_keys(project=project))
    assert values(discovery.person_property_keys(project=other_project)) == ["secret_trait"]
