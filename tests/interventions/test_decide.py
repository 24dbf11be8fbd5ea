from __future__ import annotations

import orjson
import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ingest_lane")]


def _decide(client, body, **headers):
    return client.post("/i/v1/decide", data=orjson.dumps(body), content_type="text/plain", **headers)


def test_decide_answers_the_documented_shape(client, project):
    response = _decide(client, {"api_key": project.public_key, "distinct_id": "someone"})
    assert response.status_code == 200
    body = response.json()
    assert (
        isinstance(body["flags"], dict)
        and isinstance(body["nudges"], list)
        and isinstance(body["surveys"], list)
    )
    assert "enabled" in body["recording"]
    assert body["config"] == {"respect_dnt": False}
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"api_key": "pk_nope", "distinct_id": "x"}, 401),
        ({"distinct_id": "x"}, 401),
        ({"api_key": "PK"}, 400),
        (["x"], 400),
    ],
)
def test_decide_refuses_bad_requests_clearly(client, project, body, status):
    if isinstance(body, dict) and body.get("api_key") == "PK":
        body["api_key"] = project.public_key
    response = _decide(client, body)
    assert response.status_code == status
    assert response.json()["error"]
