from __future__ import annotations

import pytest

from demo import site as demo_site
from demo.services import demo_ensure
from tests.demo.dom import Node, parse
from tracking.elements import describe, normalize
from tracking.models import Event, Person, User

pytestmark = pytest.mark.django_db

PAGES = pytest.mark.parametrize("page", demo_site.PAGES, ids=lambda page: page.key)


def _dom(client, path: str) -> Node:
    response = client.get(path)
    assert response.status_code == 200, path
    return parse(response.content.decode())


def _all(root: Node, predicate) -> list[Node]:
    return [node for node in root.walk() if predicate(node)]


def _label(chain: list[dict]) -> str:
    return " < ".join(describe(element) for element in chain)


@PAGES
def test_every_demo_page_has_the_snippet_with_the_demo_projects_key(client, page):
    root = _dom(client, page.path)

    scripts = _all(root, lambda n: n.tag == "script" and n.attrs.get("src") == "/static/sightline.js")
    assert len(scripts) == 1
    assert scripts[0].attrs["data-key"] == demo_ensure().project.public_key
    assert scripts[0].attrs["data-api-host"] == "http://testserver"
    assert "defer" in scripts[0].attrs
    [title] = _all(root, lambda n: n.tag == "title")
    assert title.text_content() == f"{page.title} · Tasklane"


@PAGES
def test_every_demo_page_says_it_is_a_recorded_demo_and_links_to_the_app(client, page):
    root = _dom(client, page.path)

    [banner] = _all(root, lambda n: "demo-banner" in n.classes)
    assert "fictional product" in banner.text_content()
    assert "recorded" in banner.text_content()
    assert [n.attrs["href"] for n in banner.walk() if n.tag == "a"] == ["/"]


@PAGES
def test_every_listed_element_is_on_its_page_exactly_as_listed(client, page):
    root = _dom(client, page.path)

    for name, chain in page.elements.items():
        target = chain[0]
        matches = [n for n in root.walk() if n.captured() == target and n.chain() == list(chain)]
        lookalikes = [
            n.chain() for n in root.walk() if n.tag == target["tag"] and n.attrs.get("id") == target.get("id")
        ]
        assert matches, f"{page.key}: {name!r} listed as {_label(list(chain))}\n" + "\n".join(
            f"  the page has {_label(c)}: {c}" for c in lookalikes[:5]
        )


def test_listed_chains_are_in_the_wire_format_and_end_at_body():
    for page in demo_site.PAGES:
        assert page.elements, page.key
        for name, chain in page.elements.items():
            assert normalize(list(chain)) == list(chain), (page.key, name)
            assert chain[-1] == {"tag": "body"}, (page.key, name)


def test_every_page_key_and_path_is_unique():
    assert len({page.key for page in demo_site.PAGES}) == len(demo_site.PAGES)
    assert len({page.path for page in demo_site.PAGES}) == len(demo_site.PAGES)


def test_the_signup_form_asks_for_a_password_and_the_company_size(client):
    root = _dom(client, "/demo/signup/")

    [form] = _all(root, lambda n: n.attrs.get("id") == "signup-form")
    fields = {n.attrs.get("name"): n for n in form.walk() if n.tag in ("input", "select")}
    assert fields["password"].attrs["type"] == "password"
    assert fields["email"].attrs["type"] == "email"
    assert {"name", "company", "company_size"} <= set(fields)
    assert form.attrs["method"] == "post"  # a password must never end up in a URL


def test_the_checkout_asks_for_card_number_expiry_and_cvc(client):
    root = _dom(client, "/demo/checkout/")

    autocomplete = {n.attrs.get("autocomplete") for n in root.walk() if n.tag == "input"}
    assert {"cc-number", "cc-exp", "cc-csc"} <= autocomplete
    [pay] = _all(root, lambda n: n.attrs.get("id") == "checkout-pay")
    assert pay.parent.attrs["id"] == "checkout-form"


def test_the_recovery_codes_sit_inside_an_area_excluded_from_capture(client):
    root = _dom(client, "/demo/welcome/")

    [excluded] = _all(root, lambda n: "sl-no-capture" in n.classes)
    for code in demo_site.RECOVERY_CODES:
        assert code in excluded.text_content()


@pytest.mark.parametrize("tab", demo_site.BOARD_TABS, ids=lambda tab: tab.key)
def test_each_board_view_has_its_own_address(client, tab):
    root = _dom(client, tab.path)

    [active] = _all(root, lambda n: "board-tab" in n.classes and "is-active" in n.classes)
    assert active.attrs["data-tab"] == tab.key
    visible = [
        n.attrs["data-panel"] for n in root.walk() if "tab-panel" in n.classes and "hidden" not in n.attrs
    ]
    assert visible == [tab.key]


def test_an_unknown_board_view_is_not_found(client):
    assert client.get("/demo/board/kanban/").status_code == 404
    assert client.get("/demo/board/board/").status_code == 404


@pytest.mark.parametrize(
    ("path", "data", "next_url"),
    [
        (
            "/demo/signup/",
            {"name": "Dana", "email": "dana@example.com", "password": "hunter22!"},
            "/demo/welcome/",
        ),
        ("/demo/welcome/", {"email": "sam@example.com"}, "/demo/welcome/?invited=1"),
        ("/demo/checkout/", {"card_number": "4242424242424242"}, "/demo/checkout/complete/"),
    ],
)
def test_demo_forms_store_nothing_and_move_on_to_the_next_step(client, path, data, next_url):
    client.get("/demo/")  # the demo project exists, as it does under `make run`
    counts = (User.objects.count(), Person.objects.count(), Event.objects.count())

    response = client.post(path, data)

    assert response.status_code == 302
    assert response["Location"] == next_url
    assert (User.objects.count(), Person.objects.count(), Event.objects.count()) == counts


def test_an_invitation_sent_shows_as_a_done_step(client):
    root = _dom(client, "/demo/welcome/?invited=1")

    [step] = _all(root, lambda n: n.attrs.get("data-step") == "invite-teammate" and n.tag == "li")
    assert "is-done" in step.classes


def test_the_demo_key_is_looked_up_once_per_process(client, django_assert_num_queries):
    client.get("/demo/")

    with django_assert_num_queries(0):
        response = client.get("/demo/pricing/")

    assert response.status_code == 200
