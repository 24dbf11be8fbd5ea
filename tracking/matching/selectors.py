"""A CSS selector subset, compiled to one regular expression over a stored element chain.

The chain (see `tracking.elements`) is `RS tag (US field)* RS tag (US field)* … RS`,
target first, then each ancestor up to `body`. A selector compiles to a pattern
that PostgreSQL (`elements_chain ~ pattern`, ARE syntax) and Python
(`re.search(pattern, chain)`) read the same way, so a click matches in SQL over
history exactly when it matches in Python at ingestion.

Supported (documented in docs/actions.md and in the action builder):

- `tag`, `*`, `.class`, `#id`, `[attr]`, `[attr="value"]` / `[attr='value']` /
  `[attr=value]`, `:nth-child(n)` and `:nth-of-type(n)` with a whole number n;
- compound selectors (`button.primary[type="submit"]`);
- the descendant (space) and child (`>`) combinators;
- comma-separated lists, which match when any member matches.

The rightmost compound may match the clicked element or any of its ancestors,
so `#signup` matches a click on a `<span>` inside `<button id="signup">`.

Everything else is refused with a message that names the construct and its
position (counted from 1): other pseudo-classes, pseudo-elements, `:not()`,
sibling combinators (the chain holds ancestors only, never siblings),
attribute operators other than `=`, attribute flags, an+b formulas, namespaces.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from tracking.elements import ALLOWED_ATTRIBUTES, RS, US

MAX_LENGTH = 1000
MAX_ALTERNATIVES = 20
MAX_COMPOUNDS = 12
# Each descendant combinator lets the Python engine try every later element; a
# bound keeps backtracking over a 30-element chain cheap (PostgreSQL does not backtrack).
MAX_DESCENDANTS = 5
_WHITESPACE = " \t\n\r\f"
_HEX = "0123456789abcdefABCDEF"
_TAG = re.compile(r"^[a-z][a-z0-9-]{0,40}$")
_NTH = ("nth-child", "nth-of-type")


class SelectorError(ValueError):
    """A selector outside the supported subset; `position` counts characters from 1."""

    def __init__(self, message: str, position: int, hint: str = "") -> None:
        self.message = message
        self.position = position
        self.hint = hint
        super().__init__(f"{message} at position {position}" + (f"; {hint}" if hint else ""))


@dataclass
class Compound:
    """One element's conditions: `button.primary#buy[type="submit"]:nth-child(2)`."""

    tag: str | None = None
    classes: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    # (name, value); value None means "has the attribute"
    attributes: list[tuple[str, str | None]] = field(default_factory=list)
    nth_child: list[int] = field(default_factory=list)
    nth_of_type: list[int] = field(default_factory=list)
    has_class: bool = False  # [class]


@dataclass
class Complex:
    """Compounds left to right, with the combinator (" " or ">") between each pair."""

    compounds: list[Compound]
    combinators: list[str]


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    # -- helpers ---------------------------------------------------------
    def peek(self, offset: int = 0) -> str:
        j = self.i + offset
        return self.text[j] if j < len(self.text) else ""

    def error(self, message: str, at: int | None = None, hint: str = "") -> SelectorError:
        return SelectorError(message, (self.i if at is None else at) + 1, hint)

    def skip_whitespace(self) -> bool:
        start = self.i
        while self.peek() and self.peek() in _WHITESPACE:
            self.i += 1
        return self.i > start

    @staticmethod
    def is_name_char(ch: str) -> bool:
        return bool(ch) and ((ch.isascii() and (ch.isalnum() or ch in "-_")) or not ch.isascii())

    def starts_name(self) -> bool:
        ch = self.peek()
        return self.is_name_char(ch) or ch == "\\"

    def escape(self) -> str:
        """After a backslash: a hex escape (`\\3A `) or the next character itself."""
        start = self.i
        self.i += 1  # the backslash
        ch = self.peek()
        if not ch:
            raise self.error("a backslash ends the selector", start)
        if ch in "\n\r\f":
            raise self.error("a backslash before a line break is not an escape", start)
        if ch in _HEX:
            digits = ""
            while self.peek() and self.peek() in _HEX and len(digits) < 6:
                digits += self.peek()
                self.i += 1
            if self.peek() and self.peek() in _WHITESPACE:
                self.i += 1
            code = int(digits, 16)
            if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                return "\ufffd"
            return chr(code)
        self.i += 1
        return ch

    def name(self, what: str) -> str:
        """A run of name characters and escapes (identifiers, classes, ids)."""
        start = self.i
        out: list[str] = []
        while True:
            ch = self.peek()
            if ch == "\\":
                out.append(self.escape())
            elif self.is_name_char(ch):
                out.append(ch)
                self.i += 1
            else:
                break
        if not out:
            found = f"{self.peek()!r}" if self.peek() else "the end"
            raise self.error(f"expected {what}, found {found}", start)
        return "".join(out)

    def string(self) -> str:
        quote = self.peek()
        start = self.i
        self.i += 1
        out: list[str] = []
        while True:
            ch = self.peek()
            if not ch:
                raise self.error(f"unterminated string (missing {quote})", start)
            if ch == quote:
                self.i += 1
                return "".join(out)
            if ch == "\\":
                if self.peek(1) == "\n":  # a line continuation inside a string
                    self.i += 2
                    continue
                out.append(self.escape())
                continue
            if ch in "\n\r\f":
                raise self.error("line break inside a string", self.i)
            out.append(ch)
            self.i += 1

    # -- grammar ---------------------------------------------------------
    def parse(self) -> list[Complex]:
        if not isinstance(self.text, str) or not self.text.strip():
            raise SelectorError("the selector is empty", 1)
        if len(self.text) > MAX_LENGTH:
            raise SelectorError(f"the selector is longer than {MAX_LENGTH} characters", MAX_LENGTH + 1)
        for index, ch in enumerate(self.text):
            if (ord(ch) < 0x20 and ch not in _WHITESPACE) or ord(ch) == 0x7F:
                raise SelectorError("control characters are not allowed", index + 1)
        alternatives = [self.complex()]
        while self.peek() == ",":
            self.i += 1
            if len(alternatives) >= MAX_ALTERNATIVES:
                raise self.error(f"a selector list takes at most {MAX_ALTERNATIVES} selectors")
            self.skip_whitespace()
            alternatives.append(self.complex())
        return alternatives

    def complex(self) -> Complex:
        self.skip_whitespace()
        if self.peek() in ("", ","):
            raise self.error("expected a selector" + (" after ','" if self.i else ""))
        compounds = [self.compound()]
        combinators: list[str] = []
        while True:
            had_space = self.skip_whitespace()
            ch = self.peek()
            if ch in ("", ","):
                break
            if ch == ">":
                combinator_at = self.i
                self.i += 1
                self.skip_whitespace()
                if self.peek() in ("", ",", ">"):
                    raise self.error("expected a selector after '>'", combinator_at)
                combinators.append(">")
            elif ch in "+~":
                raise self.error(
                    f"unsupported sibling combinator '{ch}'",
                    hint="a click records its ancestors, not its siblings",
                )
            elif had_space:
                combinators.append(" ")
            else:
                raise self._unexpected()
            if len(compounds) >= MAX_COMPOUNDS:
                raise self.error(f"a selector takes at most {MAX_COMPOUNDS} compound selectors")
            if combinators.count(" ") > MAX_DESCENDANTS:
                raise self.error(f"a selector takes at most {MAX_DESCENDANTS} descendant (space) combinators")
            compounds.append(self.compound())
        return Complex(compounds=compounds, combinators=combinators)

    def _unexpected(self) -> SelectorError:
        ch = self.peek()
        if ch == "|":
            return self.error("unsupported namespace '|'")
        if ch == "&":
            return self.error("unsupported nesting selector '&'")
        if ch == ">" and not self.text[: self.i].strip(_WHITESPACE):
            return self.error("expected a selector before '>'")
        if ch == ")":
            return self.error("unexpected ')'")
        return self.error(f"unexpected character {ch!r}")

    def compound(self) -> Compound:
        start = self.i
        compound = Compound()
        ch = self.peek()
        if ch == "*":
            self.i += 1
            if self.peek() == "|":
                raise self.error("unsupported namespace '|'")
        elif self.starts_name():
            tag_at = self.i
            tag = self.name("a tag name").lower()
            if self.peek() == "|":
                raise self.error("unsupported namespace '|'")
            if not _TAG.match(tag):
                raise self.error(f"{tag!r} is not an HTML tag name", tag_at)
            compound.tag = tag
        while True:
            ch = self.peek()
            if ch == ".":
                self.i += 1
                compound.classes.append(self.name("a class name after '.'"))
            elif ch == "#":
                self.i += 1
                compound.ids.append(self.name("an id after '#'"))
            elif ch == "[":
                self.attribute(compound)
            elif ch == ":":
                self.pseudo(compound)
            else:
                break
        if self.i == start:
            raise self._unexpected()
        return compound

    def attribute(self, compound: Compound) -> None:
        open_at = self.i
        self.i += 1
        self.skip_whitespace()
        name_at = self.i
        if self.peek() == "|" or (self.peek() == "*" and self.peek(1) == "|"):
            raise self.error("unsupported namespace '|'")
        name = self.name("an attribute name after '['").lower()
        self.skip_whitespace()
        ch = self.peek()
        value: str | None = None
        if ch in "~|^$*" and ch and self.peek(1) == "=":
            raise self.error(f"unsupported attribute operator '{ch}='", hint='use [attr] or [attr="value"]')
        if ch == "=":
            self.i += 1
            self.skip_whitespace()
            if self.peek() in ("'", '"'):
                value = self.string()
            elif self.starts_name():
                value = self.name("a value")
            else:
                raise self.error("expected a quoted value after '='")
            self.skip_whitespace()
            if self.peek() and self.peek() not in "]":
                if self.peek().lower() in ("i", "s"):
                    raise self.error(f"unsupported attribute flag '{self.peek()}'")
                raise self._unexpected()
        if self.peek() != "]":
            if not self.peek():
                raise self.error("unterminated attribute selector (missing ']')", open_at)
            raise self._unexpected()
        self.i += 1
        if name == "id":
            if value is None:
                compound.attributes.append(("id", None))
            else:
                compound.ids.append(value)
        elif name == "class":
            if value is not None:
                raise self.error('unsupported [class="…"]', open_at, hint="use .name for each class")
            compound.has_class = True
        elif name in ALLOWED_ATTRIBUTES or name.startswith("data-"):
            compound.attributes.append((name, value))
        else:
            captured = ", ".join(sorted(ALLOWED_ATTRIBUTES))
            raise self.error(
                f"attribute [{name}]",
                name_at,
                hint=f"it is never captured (captured: id, class, data-*, {captured})",
            )

    def pseudo(self, compound: Compound) -> None:
        colon_at = self.i
        self.i += 1
        if self.peek() == ":":
            self.i += 1
            name = self.name("a pseudo-element name") if self.starts_name() else ""
            raise self.error(f"unsupported pseudo-element ::{name}", colon_at)
        name = self.name("a pseudo-class name after ':'").lower()
        if name == "not":
            raise self.error("unsupported pseudo-class :not()", colon_at)
        if name not in _NTH:
            shown = f":{name}()" if self.peek() == "(" else f":{name}"
            raise self.error(
                f"unsupported pseudo-class {shown}",
                colon_at,
                hint="only :nth-child(n) and :nth-of-type(n) are supported",
            )
        if self.peek() != "(":
            raise self.error(f":{name} needs a number in parentheses, like :{name}(2)", colon_at)
        self.i += 1
        inner_at = self.i
        close = self.text.find(")", self.i)
        if close < 0:
            raise self.error(f"unterminated :{name}( (missing ')')", colon_at)
        argument = self.text[self.i : close].strip(_WHITESPACE)
        if not argument.isascii() or not argument.isdigit():
            raise self.error(
                f"unsupported argument {argument!r} in :{name}()",
                inner_at,
                hint=f"give a whole number, like :{name}(3) (an+b formulas, odd, even and 'of S' are not supported)",
            )
        number = int(argument)
        if number < 1 or number >= 100000:
            raise self.error(f":{name}() counts from 1", inner_at)
        self.i = close + 1
        (compound.nth_child if name == "nth-child" else compound.nth_of_type).append(number)


def parse(selector: str) -> list[Complex]:
    """Parse a selector list; raise SelectorError naming what is unsupported and where."""
    return _Parser(selector).parse()


# -- compilation ---------------------------------------------------------------


def escape_literal(text: str) -> str:
    """`text` as a regex literal for both engines.

    Every ASCII character that is not a letter or digit gets a backslash: in
    Python and in PostgreSQL's ARE, `\\` before such a character means the
    character itself. Letters and digits stay bare because in ARE a backslash
    before them starts an escape (`\\d`, `\\x1e`…). Non-ASCII characters are never
    syntax in either engine.
    """
    return "".join("\\" + ch if ch.isascii() and not ch.isalnum() else ch for ch in text)


_NOT_RS = f"[^{RS}]*"
_FIELD_END = f"[{US}{RS}]"


def _has_field(prefix: str, value: str | None = None) -> str:
    """A lookahead: somewhere in this element, a field `prefix[=value]`."""
    body = prefix if value is None else prefix + escape_literal(value) + _FIELD_END
    return f"(?={_NOT_RS}{US}{body})"


def _compound_pattern(compound: Compound) -> str:
    """`RS tag` + one lookahead per condition + the rest of the element (up to the next RS)."""
    if compound.tag:
        head = escape_literal(compound.tag) + f"(?={_FIELD_END})"
    else:
        head = f"[^{RS}{US}]+"
    checks = [_has_field("c=", cls) for cls in compound.classes]
    if compound.has_class:
        checks.append(_has_field("c="))
    checks += [_has_field("i=", value) for value in compound.ids]
    checks += [_has_field("n=", str(n)) for n in compound.nth_child]
    checks += [_has_field("t=", str(n)) for n in compound.nth_of_type]
    for name, value in compound.attributes:
        if name == "id":
            checks.append(_has_field("i="))
        else:
            checks.append(_has_field(f"a:{escape_literal(name)}=", value))
    return RS + head + "".join(checks) + _NOT_RS


def _complex_pattern(selector: Complex) -> str:
    # The chain runs target -> ancestors, the selector ancestors -> target: walk
    # the selector right to left. Unanchored, so the rightmost compound may be the
    # target or any ancestor; `>` takes the very next element, a space any later one.
    compounds = selector.compounds
    parts = [_compound_pattern(compounds[-1])]
    for index in range(len(compounds) - 2, -1, -1):
        if selector.combinators[index] == " ":
            parts.append(f"(?:{RS}{_NOT_RS})*")
        parts.append(_compound_pattern(compounds[index]))
    return "".join(parts)


@functools.lru_cache(maxsize=2048)
def selector_regex(selector: str) -> str:
    """The regular expression for a selector list; raise SelectorError when unsupported."""
    alternatives = [_complex_pattern(c) for c in parse(selector)]
    if len(alternatives) == 1:
        return alternatives[0]
    return "(?:" + "|".join(alternatives) + ")"


@functools.lru_cache(maxsize=2048)
def _compiled(selector: str) -> re.Pattern:
    return re.compile(selector_regex(selector))


def chain_matches(selector: str, chain: str) -> bool:
    """The Python side: does the stored chain match the selector (as `chain ~ regex` would)?"""
    return bool(chain) and _compiled(selector).search(chain) is not None
