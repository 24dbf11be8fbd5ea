"""Matching stored events after the fact: CSS selectors over element chains, and action steps.

`selectors` compiles a CSS selector subset to one regular expression over
`Event.elements_chain`; `actions` turns action steps into a SQL condition and a
Python predicate with the same meaning; `suggest` proposes a selector for an
element someone clicked.
"""
