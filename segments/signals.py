"""Membership changes, for other apps to react to (webhooks, nudges on entry…).

`membership_changed` is sent after the change commits, once per segment that
changed, with `segment_id`, `project_id`, `entered` and `exited` (person ids)
and `initial` (True for a segment's first computation, whose "entries" are
everyone who already qualified).
"""

from django.dispatch import Signal

membership_changed = Signal()
