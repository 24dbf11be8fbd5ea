"""CSS selectors over stored element chains: the subset, its errors, and one meaning in PostgreSQL,
ClickHouse (RE2) and Python."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tracking.elements import encode, normalize
from tracking.eventstore.clickhouse.client import Params, client
from tracking.eventstore.clickhouse.filters import sorted_chain
from tracking.matching.re2 import selector_regex_sorted
from tracking.matching.re2 import sorted_chain as python_sorted_chain
from tracking.matching.selectors import SelectorError, chain_matches, escape_literal, selector_regex

pytestmark = pytest.mark.django_db

# target first: <span> inside <button id="signup" class="btn primary"> inside <form> inside <body>
SPAN = {"tag": "span", "classes": ["icon"], "nth_child": 1, "nth_of_type": 1, "text": "Sign up"}
BUTTON = {
    "tag": "button",
    "id": "signup",
    "classes": ["btn", "primary"],
    "nth_child": 2,
    "nth_of_type": 1,
    "attrs": {"type": "submit", "data-plan": "pro", "aria-label": "Sign up now"},
}
FORM = {"tag": "form", "classes": ["signup-form"], "nth_child": 3, "attrs": {"name": "signup"}}
SECTION = {"tag": "section", "id": "hero", "nth_child": 1}
BODY = {"tag": "body"}
CHAIN = encode(normalize([SPAN, BUTTON, FORM, SECTION, BODY]))


def sql_matches(selector: str, chain: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s ~ %s", [chain, selector_regex(selector)])
        return cursor.fetchone()[0]


def clickhouse_matches(selector: str, chain: str) -> bool:
    """ClickHouse's answer, as `filters.action_where` asks it: RE2 over the chain with sorted fields."""
    p = Params()
    regex = p.add(selector_regex_sorted(selector), "String")
    sql = f"SELECT match({sorted_chain('t.chain')}, {regex}) FROM (SELECT {p.add(chain, 'String')} AS chain) AS t"
    in_clickhouse = bool(client().query(sql, p)[0][0])
    # the lookahead-free pattern means the same in Python
    assert bool(re.search(selector_regex_sorted(selector), python_sorted_chain(chain))) == in_clickhouse
    return in_clickhouse


@pytest.fixture(autouse=True)
def _clickhouse_too(clickhouse):
    """Every selector is also matched by ClickHouse's RE2."""


def both(selector: str, chain: str = CHAIN) -> bool:
    """The answer of Python, asserting PostgreSQL and ClickHouse give the same."""
    in_python = chain_matches(selector, chain)
    assert sql_matches(selector, chain) == in_python, selector
    assert clickhouse_matches(selector, chain) == in_python, selector
    return in_python


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("span", True),
        ("button", True),  # an ancestor of the clicked span
        ("div", False),
        ("b", False),  # whole tag names only: not a prefix of button or body
        ("butto", False),
        ("*", True),
        (".btn", True),
        (".btn.primary", True),
        (".btn.secondary", False),
        (".bt", False),  # whole class names only
        ("#signup", True),
        ("#sign", False),
        ("button#signup.primary", True),
        ("span#signup", False),  # both conditions on the same element
        ("[data-plan]", True),
        ("[data-plan=pro]", True),
        ('[data-plan="pro"]', True),
        ("[data-plan='pro']", True),
        ('[data-plan="pr"]', False),
        ("[data-other]", False),
        ('[aria-label="Sign up now"]', True),
        ('button[type="submit"]', True),
        ('span[type="submit"]', False),
        ("[id]", True),
        ('[id="signup"]', True),
        ("[class]", True),
        ("button:nth-child(2)", True),
        ("button:nth-child(1)", False),
        ("span:nth-child(1)", True),
        ("button:nth-of-type(1)", True),
        ("form:nth-of-type(1)", False),  # not recorded for the form
        ("button > span", True),
        ("form > span", False),  # a child is the very next element
        ("form span", True),  # a descendant may be further away
        ("form > button > span", True),
        ("section > form > button", True),
        ("section > button", False),
        ("#hero .btn", True),
        ("#hero > .btn", False),
        ("body section form button span", True),
        ("span button", False),  # order matters: span is inside button, not the other way round
        ("BUTTON.btn", True),  # tag names are case-insensitive
        (".BTN", False),  # classes are not
        ("  button  >  span  ", True),
        ("button>span", True),
    ],
)
def test_each_supported_construct_matches_as_in_a_browser(selector, expected):
    assert both(selector) is expected


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("div, span", True),  # a list matches when any member does
        ("div, p", False),
        ("form > span, div", False),
        ("form > span, form span", True),
        ("div span, #signup", True),  # the comma binds loosest: (div span), (#signup)
        ("section > form span, a", True),
        ("span, form > div", True),
    ],
)
def test_a_comma_separates_whole_selectors(selector, expected):
    assert both(selector) is expected


def test_a_click_inside_an_id_matches_the_id():
    # people define the button; they click the icon in it
    assert both("#signup")
    assert both("#signup span")
    assert not both("#signup > form")


def test_nothing_matches_an_event_without_elements():
    assert not both("*", "")
    assert not both("button", "")


HOSTILE = [
    'quote"d',
    "single'quote",
    "back\\slash",
    "dot.and*star+plus?",
    "(paren)[bracket]{brace}",
    "^caret$dollar|pipe",
    "ünïcødé-名前",
    "tab\there",
    "a b",
    "%_like_",
    "\\d\\w",
]


def _css_escape(text: str) -> str:
    return "".join(
        ch if (ch.isascii() and ch.isalnum()) or not ch.isascii() else f"\\{ord(ch):x} " for ch in text
    )


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_literals_in_both_engines(value):
    chain = encode(normalize([{"tag": "a", "id": value, "attrs": {"data-x": value, "title": value}}]))
    assert both(f"#{_css_escape(value)}", chain)
    assert both(f"[data-x={_css_string(value)}]", chain)
    assert both(f"a[title={_css_string(value)}]", chain)
    # one character off never matches, whatever the regex syntax in the value
    assert not both(f"[data-x={_css_string(value + 'x')}]", chain)
    assert not both(f"[data-x={_css_string(value[1:])}]", chain)


@pytest.mark.parametrize("value", ["a.b", "a*", ".+", "x|y", "(?=)", "\\", "[^a]", "é"])
def test_regex_metacharacters_never_act_as_syntax(value):
    chain = encode(normalize([{"tag": "div", "classes": ["aXb", "plain"]}]))
    # "a.b" as a regex would match "aXb"; as a literal it must not
    assert not both(f".{_css_escape(value)}", chain)


def test_escape_literal_never_puts_a_backslash_before_a_letter_or_digit():
    escaped = escape_literal("a1.B2-ü \\ é")
    assert escaped == "a1\\.B2\\-ü\\ \\\\\\ é"
    for index, ch in enumerate(escaped[:-1]):
        if ch == "\\" and escaped[index - 1] != "\\":
            assert not escaped[index + 1].isalnum()


def test_css_escapes_in_identifiers_are_decoded():
    chain = encode(normalize([{"tag": "div", "classes": ["md:flex", "w-1/2"], "id": "1st"}]))
    assert both(".md\\:flex", chain)
    assert both(".w-1\\/2", chain)
    assert both("#\\31 st", chain)
    assert both(".md\\3a flex", chain)


@pytest.mark.parametrize(
    ("selector", "message", "position"),
    [
        ("a:hover", "unsupported pseudo-class :hover", 2),
        ("button:focus-visible", "unsupported pseudo-class :focus-visible", 7),
        ("a:not(.b)", "unsupported pseudo-class :not()", 2),
        ("a:has(b)", "unsupported pseudo-class :has()", 2),
        ("a::before", "unsupported pseudo-element ::before", 2),
        ("li + li", "unsupported sibling combinator '+'", 4),
        ("li ~ li", "unsupported sibling combinator '~'", 4),
        ("a[href^=x]", "unsupported attribute operator '^='", 7),
        ("a[href*='x']", "unsupported attribute operator '*='", 7),
        ("a[class~=b]", "unsupported attribute operator '~='", 8),
        ("a[lang|=en]", "unsupported attribute operator '|='", 7),
        ("a[href$=x]", "unsupported attribute operator '$='", 7),
        ('a[href="x" i]', "unsupported attribute flag 'i'", 12),
        ("li:nth-child(2n+1)", "unsupported argument '2n+1' in :nth-child()", 14),
        ("li:nth-child(odd)", "unsupported argument 'odd' in :nth-child()", 14),
        ("li:nth-of-type(-1)", "unsupported argument '-1' in :nth-of-type()", 16),
        ("li:nth-child(0)", ":nth-child() counts from 1", 14),
        ("li:nth-child", ":nth-child needs a number", 3),
        ("[onclick]", "attribute [onclick]", 2),
        ('[class="a b"]', 'unsupported [class="…"]', 1),
        ("svg|rect", "unsupported namespace '|'", 4),
        ("& a", "unsupported nesting selector '&'", 1),
        ("", "the selector is empty", 1),
        ("   ", "the selector is empty", 1),
        ("a,", "expected a selector after ','", 3),
        (", a", "expected a selector", 1),
        ("> a", "expected a selector before '>'", 1),
        ("a >", "expected a selector after '>'", 3),
        ("a > > b", "expected a selector after '>'", 3),
        ("a[href", "unterminated attribute selector", 2),
        ("a[title='x]", "unterminated string", 9),
        ("a..b", "expected a class name after '.'", 3),
        ("a#", "expected an id after '#'", 3),
        ("a)", "unexpected ')'", 2),
        ("a\\", "a backslash ends the selector", 2),
        ("my_tag", "'my_tag' is not an HTML tag name", 1),
        ("a\x01", "control characters are not allowed", 2),
    ],
)
def test_unsupported_constructs_are_refused_with_what_and_where(selector, message, position):
    with pytest.raises(SelectorError) as caught:
        selector_regex(selector)
    assert message in str(caught.value)
    assert caught.value.position == position
    assert f"at position {position}" in str(caught.value)


def test_very_long_and_deep_selectors_are_refused():
    with pytest.raises(SelectorError, match="longer than"):
        selector_regex("a" * 1001)
    with pytest.raises(SelectorError, match="descendant"):
        selector_regex("a b c d e f g")
    with pytest.raises(SelectorError, match="at most 12 compound"):
        selector_regex(" > ".join(["div"] * 13))


def test_the_largest_allowed_selector_still_runs_in_postgresql():
    selector = ", ".join(
        " > ".join(f'div.c{i}[data-k="{i}"]:nth-child({i + 1})' for i in range(12)) for _ in range(2)
    )
    chain = encode(
        normalize(
            [
                {"tag": "div", "classes": [f"c{i}"], "nth_child": i + 1, "attrs": {"data-k": str(i)}}
                for i in range(12)
            ]
        )
    )
    # the chain is target first, so element i is the i-th compound from the right
    assert not both(selector, chain)
    reversed_chain = encode(
        normalize(
            [
                {"tag": "div", "classes": [f"c{i}"], "nth_child": i + 1, "attrs": {"data-k": str(i)}}
                for i in reversed(range(12))
            ]
        )
    )
    assert both(selector, reversed_chain)


# -- property: the compiled regex means what CSS means, in both engines ---------------

TAGS = ["div", "a", "b", "button", "span", "form"]
# prefixes of one another, and regex or CSS syntax, so that a sloppy compiler shows
CLASSES = ["btn", "btn-lg", "primary", "x.y", "xzy", 'q"t', "b\\s", "ünï", "[x]", "*+?", "名"]
IDS = ["buy", "buy-now", "x y", "a.b", "'q'"]
ATTRS = {"data-plan": ["pro", "pro-plus", 'a"b'], "type": ["submit", "button"], "href": ["/a?b=1", "/c"]}


@st.composite
def elements(draw):
    element: dict = {"tag": draw(st.sampled_from(TAGS))}
    classes = draw(st.lists(st.sampled_from(CLASSES), max_size=3, unique=True))
    if classes:
        element["classes"] = classes
    if draw(st.booleans()):
        element["id"] = draw(st.sampled_from(IDS))
    if draw(st.booleans()):
        element["nth_child"] = draw(st.integers(1, 3))
    if draw(st.booleans()):
        element["nth_of_type"] = draw(st.integers(1, 2))
    attrs = {name: draw(st.sampled_from(values)) for name, values in ATTRS.items() if draw(st.booleans())}
    if attrs:
        element["attrs"] = attrs
    return element


def _random_compound(draw) -> dict:
    return {
        "tag": draw(st.one_of(st.none(), st.sampled_from(TAGS))),
        "classes": draw(st.lists(st.sampled_from(CLASSES), max_size=2)),
        "ids": draw(st.lists(st.sampled_from(IDS), max_size=1)),
        "nth_child": draw(st.lists(st.integers(1, 3), max_size=1)),
        "nth_of_type": draw(st.lists(st.integers(1, 2), max_size=1)),
        "attrs": draw(
            st.lists(
                st.tuples(
                    st.sampled_from(sorted(ATTRS)),
                    st.one_of(st.none(), st.sampled_from(["pro", "submit", "/c"])),
                ),
                max_size=1,
            )
        ),
        "has_id": draw(st.booleans()) and draw(st.booleans()),
    }


def _compound_of(draw, element: dict) -> dict:
    """Some of an element's own features, so that selectors often match and near-misses are close."""
    pick = st.booleans()
    attrs = element.get("attrs", {})

    def near(value: str) -> str:
        # now and then a prefix of the real value: must not match
        return value[:-1] if len(value) > 1 and not draw(st.integers(0, 5)) else value

    return {
        "tag": element["tag"] if draw(pick) else None,
        "classes": [near(c) for c in element.get("classes", []) if draw(pick)],
        "ids": [near(element["id"])] if "id" in element and draw(pick) else [],
        "nth_child": [element["nth_child"]] if "nth_child" in element and draw(pick) else [],
        "nth_of_type": [element["nth_of_type"]] if "nth_of_type" in element and draw(pick) else [],
        "attrs": [(name, near(value) if draw(pick) else None) for name, value in attrs.items() if draw(pick)],
        "has_id": "id" in element and draw(pick) and draw(pick),
    }


@st.composite
def chains_and_selectors(draw):
    chain = draw(st.lists(elements(), min_size=0, max_size=6))
    selector_list = []
    for _ in range(draw(st.integers(1, 2))):
        parts = []
        for _ in range(draw(st.integers(1, 4))):
            if chain and draw(st.integers(0, 4)):
                parts.append(_compound_of(draw, draw(st.sampled_from(chain))))
            else:
                parts.append(_random_compound(draw))
        # mostly ancestors before descendants, as people write them
        if chain and draw(st.booleans()):
            indices = draw(st.lists(st.integers(0, len(chain) - 1), min_size=1, max_size=4, unique=True))
            parts = [_compound_of(draw, chain[i]) for i in sorted(indices, reverse=True)]
        combinators = [draw(st.sampled_from([" ", ">"])) for _ in parts[1:]]
        selector_list.append((parts, combinators))
    return chain, selector_list


def _escape_name(text: str, hex_style: bool) -> str:
    out = []
    for ch in text:
        if (ch.isascii() and ch.isalnum()) or ch in "-_" or not ch.isascii():
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):x} " if hex_style else "\\" + ch)
    text = "".join(out)
    return text


def _css(compound: dict, hex_style: bool) -> str:
    text = compound["tag"] or ""
    text += "".join("." + _escape_name(c, hex_style) for c in compound["classes"])
    text += "".join("#" + _escape_name(i, hex_style) for i in compound["ids"])
    text += "".join(f":nth-child({n})" for n in compound["nth_child"])
    text += "".join(f":nth-of-type({n})" for n in compound["nth_of_type"])
    for name, value in compound["attrs"]:
        text += f"[{name}]" if value is None else f"[{name}={_css_string(value)}]"
    if compound["has_id"]:
        text += "[id]"
    return text or "*"


def _compound_holds(compound: dict, element: dict) -> bool:
    """Reference semantics, written from the CSS definitions rather than from the compiler."""
    attrs = element.get("attrs", {})
    return (
        (compound["tag"] is None or compound["tag"] == element["tag"])
        and all(c in element.get("classes", []) for c in compound["classes"])
        and all(i == element.get("id") for i in compound["ids"])
        and all(n == element.get("nth_child") for n in compound["nth_child"])
        and all(n == element.get("nth_of_type") for n in compound["nth_of_type"])
        and all(
            name in attrs and (value is None or attrs[name] == value) for name, value in compound["attrs"]
        )
        and (not compound["has_id"] or "id" in element)
    )


def _holds_from(parts, combinators, k: int, chain: list[dict], i: int) -> bool:
    if not _compound_holds(parts[k], chain[i]):
        return False
    if k == 0:
        return True
    if combinators[k - 1] == ">":
        return i + 1 < len(chain) and _holds_from(parts, combinators, k - 1, chain, i + 1)
    return any(_holds_from(parts, combinators, k - 1, chain, j) for j in range(i + 1, len(chain)))


def reference_matches(selector_list, chain: list[dict]) -> bool:
    return any(
        _holds_from(parts, combinators, len(parts) - 1, chain, i)
        for parts, combinators in selector_list
        for i in range(len(chain))
    )


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=chains_and_selectors(), hex_style=st.booleans())
def test_sql_python_and_css_semantics_agree(case, hex_style):
    chain, selector_list = case
    normalized = normalize(chain)
    assert normalized == chain  # the generated elements are already in stored form
    text = ", ".join(
        "".join(
            _css(c, hex_style) + (f" {comb} " if comb == ">" else comb)
            for c, comb in zip(parts, [*combs, ""], strict=True)
        )
        for parts, combs in selector_list
    )
    stored = encode(normalized)
    expected = reference_matches(selector_list, normalized)
    event("matches" if expected else "no match")
    assert chain_matches(text, stored) is expected, text
    assert sql_matches(text, stored) is expected, text
    assert clickhouse_matches(text, stored) is expected, text
