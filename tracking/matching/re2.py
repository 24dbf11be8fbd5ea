"""CSS selectors as regular expressions without lookahead, for RE2 (ClickHouse).

RE2 has no lookahead, so the conditions on one element cannot be checked in
any order as `selectors.selector_regex` does. Over a chain whose fields are
sorted within each element (the tag stays first: `sorted_chain`, which
ClickHouse computes at query time) they can be checked in one pass, in sorted
order. A "has" condition (`[class]`, `[id]`, `[data-x]`) implied by an exact
one on the same field is dropped, since one field satisfies both; the fields
with one prefix (`c=`, `a:data-x=`) are then contiguous and ordered by the
prefix, so sorted conditions meet them in order.

`re.search(selector_regex_sorted(s), sorted_chain(chain))` answers exactly as
`chain_matches(s, chain)` (tests/tracking/test_selectors.py checks it four ways).
"""

from __future__ import annotations

import functools

from tracking.elements import RS, US
from tracking.matching.selectors import Complex, Compound, escape_literal, parse

_SKIP_FIELDS = f"(?:{US}[^{US}{RS}]*)*"


def sorted_chain(chain: str) -> str:
    """The chain with each element's fields sorted (code point order), the tag first."""
    elements = []
    for element in chain.split(RS):
        tag, *fields = element.split(US) if element else [""]
        elements.append(US.join([tag, *sorted(fields)]))
    return RS.join(elements)


def _sorted_conditions(compound: Compound) -> list[tuple[str, bool]]:
    """(field text, exact?) for each distinct condition, in the order fields sort."""
    exact = {"c=" + cls for cls in compound.classes}
    exact |= {"i=" + value for value in compound.ids}
    exact |= {f"n={n}" for n in compound.nth_child}
    exact |= {f"t={n}" for n in compound.nth_of_type}
    has: set[str] = set()
    if compound.has_class:
        has.add("c=")
    for name, value in compound.attributes:
        if name == "id":
            has.add("i=")
        elif value is None:
            has.add(f"a:{name}=")
        else:
            exact.add(f"a:{name}={value}")
    has = {prefix for prefix in has if not any(text.startswith(prefix) for text in exact)}
    return sorted([(text, True) for text in exact] + [(prefix, False) for prefix in has])


def _sorted_compound_pattern(compound: Compound) -> str:
    """The element's tag and fields up to (not including) its closing RS."""
    head = escape_literal(compound.tag) if compound.tag else f"[^{RS}{US}]+"
    checks = "".join(
        _SKIP_FIELDS + US + escape_literal(text) + ("" if exact else f"[^{US}{RS}]*")
        for text, exact in _sorted_conditions(compound)
    )
    # whatever follows a check is US or RS, so each exact field ends where its value does
    return head + checks + _SKIP_FIELDS


def _sorted_complex_pattern(selector: Complex) -> str:
    compounds = selector.compounds
    parts = [RS, _sorted_compound_pattern(compounds[-1]), RS]
    for index in range(len(compounds) - 2, -1, -1):
        if selector.combinators[index] == " ":
            parts.append(f"(?:[^{RS}]*{RS})*")
        parts += [_sorted_compound_pattern(compounds[index]), RS]
    return "".join(parts)


@functools.lru_cache(maxsize=2048)
def selector_regex_sorted(selector: str) -> str:
    """A lookahead-free regular expression for the selector, to match against `sorted_chain(chain)`.

    Matches exactly when `selector_regex` matches the chain itself.
    """
    alternatives = [_sorted_complex_pattern(c) for c in parse(selector)]
    if len(alternatives) == 1:
        return alternatives[0]
    return "(?:" + "|".join(alternatives) + ")"
