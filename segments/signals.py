"""Membership changes, for other apps to react to (webhooks, nudges on entry…).

`membership_changed` is sent after the change commits, once per segment that
changed, with `segment_id`, `project_id`, `subject` ("person" or "company"),
`entered` and `exited` (person ids, or company ids for a company segment)
and `initial` (True for a segment's first computation, whose "entries" are
everyone who already qualified).
"""

from django.dispatch import Signal

membership_changed = Signal()
