"""Selector suggestions for a clicked element: stable, short, and always matching the click."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracking.elements import encode, normalize
from tracking.matching.selectors import chain_matches, parse
from tracking.matching.suggest import looks_generated, suggest_selector


def suggest(elements: list[dict]) -> str:
    return suggest_selector(normalize(elements))


def test_the_targets_own_id_wins():
    assert suggest([{"tag": "button", "id": "signup", "classes": ["btn"]}, {"tag": "body"}]) == "#signup"


def test_a_click_inside_a_button_suggests_the_buttons_id():
    chain = [{"tag": "svg"}, {"tag": "button", "id": "buy", "classes": ["btn"]}, {"tag": "body"}]
    assert suggest(chain) == "#buy"


def test_a_stable_attribute_beats_classes():
    chain = [
        {"tag": "button", "classes": ["btn"], "attrs": {"data-action": "subscribe", "type": "submit"}},
        {"tag": "body"},
    ]
    assert suggest(chain) == 'button[data-action="subscribe"]'


def test_name_aria_label_role_and_type_follow_data_attributes_in_that_order():
    assert suggest([{"tag": "input", "attrs": {"type": "email", "name": "email"}}]) == 'input[name="email"]'
    assert (
        suggest([{"tag": "div", "attrs": {"role": "button", "aria-label": "Close"}}])
        == 'div[aria-label="Close"]'
    )
    assert suggest([{"tag": "div", "attrs": {"role": "tab"}}]) == 'div[role="tab"]'


def test_classes_are_used_and_anchored_under_the_nearest_id():
    chain = [
        {"tag": "a", "classes": ["nav-link", "active"]},
        {"tag": "li"},
        {"tag": "nav", "id": "main-nav"},
        {"tag": "body"},
    ]
    assert suggest(chain) == "#main-nav a.nav-link.active"


def test_generated_classes_and_ids_are_skipped():
    chain = [
        {
            "tag": "button",
            "id": "ember123",
            "classes": ["css-1x2y3z", "Button_primary__aB3xZ", "sc-bdVaJa", "cta"],
        },
        {"tag": "body"},
    ]
    assert suggest(chain) == "button.cta"


@pytest.mark.parametrize(
    ("name", "generated"),
    [("cta", False), ("nav-link", False), ("btn-primary", False), ("ember123", True), ("css-1x2y3z", True),
     ("Button_primary__aB3xZ", True), ("sc-bdVaJa", True), ("jZkLmQ", True), ("a" * 41, True)],
)  # fmt: skip
def test_what_looks_generated(name, generated):
    assert looks_generated(name) is generated


def test_a_bare_element_gets_positions_up_to_a_distinctive_ancestor():
    chain = [
        {"tag": "li", "nth_child": 3},
        {"tag": "ul", "nth_child": 2},
        {"tag": "div", "classes": ["menu"], "nth_child": 1},
        {"tag": "body"},
    ]
    assert suggest(chain) == "div.menu > ul:nth-child(2) > li:nth-child(3)"


def test_a_bare_element_under_an_id_is_anchored_to_it():
    chain = [{"tag": "span", "nth_child": 2}, {"tag": "section", "id": "plans"}, {"tag": "body"}]
    assert suggest(chain) == "#plans > span:nth-child(2)"


def test_values_with_quotes_and_css_syntax_are_escaped():
    chain = [{"tag": "a", "id": "md:flex", "classes": ["x"]}, {"tag": "body"}]
    assert suggest(chain) == "#md\\:flex"
    chain = [{"tag": "button", "attrs": {"aria-label": 'Say "hi" \\ now'}}]
    assert suggest(chain) == 'button[aria-label="Say \\"hi\\" \\\\ now"]'


def test_no_elements_no_suggestion():
    assert suggest_selector([]) == ""


TAGS = ["a", "button", "span", "div", "li", "svg", "body"]
NAMES = ["cta", "btn", "nav-link", "md:flex", "ember12", "a.b", "x y", 'q"t', "ünï", "Button_x__aB3xZ"]


@st.composite
def chains(draw):
    out = []
    for _ in range(draw(st.integers(1, 7))):
        element: dict = {"tag": draw(st.sampled_from(TAGS))}
        if draw(st.integers(0, 3)) == 0:
            element["id"] = draw(st.sampled_from(NAMES))
        classes = draw(st.lists(st.sampled_from([n for n in NAMES if " " not in n]), max_size=3, unique=True))
        if classes:
            element["classes"] = classes
        if draw(st.booleans()):
            element["nth_child"] = draw(st.integers(1, 9))
        if draw(st.integers(0, 3)) == 0:
            element["attrs"] = {
                draw(st.sampled_from(["data-x", "name", "role", "type", "title"])): draw(
                    st.sampled_from(NAMES)
                )
            }
        out.append(element)
    return out


@settings(max_examples=300, deadline=None)
@given(chain=chains())
def test_a_suggestion_always_parses_and_matches_its_own_click(chain):
    elements = normalize(chain)
    selector = suggest_selector(elements)
    parse(selector)
    assert chain_matches(selector, encode(elements)), selector
