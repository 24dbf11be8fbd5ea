"""The form of a segment's scheduled export (interventions.syncs)."""

from __future__ import annotations

from typing import Any

from django import forms

from interventions.forms.common import ProjectForm, number_input
from interventions.models import SegmentSync
from interventions.selectors import segment_groups
from interventions.syncs import MAX_BATCH_SIZE


class SyncForm(ProjectForm):
    segment = forms.TypedChoiceField(
        label="Segment", coerce=int, widget=forms.Select(attrs={"data-picker": ""})
    )
    daily_file = forms.BooleanField(
        label="Write the member list to storage every day",
        required=False,
        initial=True,
        help_text="A gzipped CSV of everyone in the segment: person id, distinct ids, e-mail, entered at.",
    )
    webhook_url = forms.CharField(
        label="Push entries and exits to",
        required=False,
        max_length=1000,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/sightline-sync"}),
        help_text="Signed JSON batches, checked every minute. Empty: no push.",
    )
    batch_size = forms.IntegerField(
        label="Changes per batch",
        min_value=1,
        max_value=MAX_BATCH_SIZE,
        initial=500,
        widget=number_input(1, MAX_BATCH_SIZE),
    )
    push_current_members = forms.BooleanField(
        label="Start with everyone already in the segment",
        required=False,
        initial=True,
        help_text="On: the first batches hold the current members as entries, so the receiver's list mirrors the segment. "
        "Off: only people who enter or leave afterwards. Takes effect when the push starts.",
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)

    def __init__(self, *args: Any, sync: SegmentSync | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        groups = segment_groups(project=self.project)
        self.fields["segment"].choices = [("", "— choose —")] + [
            (g.label, [(s.pk, s.name) for s in g.segments]) for g in groups
        ]
        if sync is not None:
            self.fields["segment"].disabled = True
            self.fields["segment"].help_text = "A sync keeps its segment; make a new sync for another one."

    def data_for_service(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in ("segment", "daily_file", "batch_size", "push_current_members", "enabled")} | {
            "webhook_url": data["webhook_url"].strip()
        }  # fmt: skip


def sync_initial(sync: SegmentSync) -> dict:
    return {"segment": sync.segment_id, "daily_file": sync.daily_file, "webhook_url": sync.webhook_url,
            "batch_size": sync.batch_size, "push_current_members": sync.push_current_members,
            "enabled": sync.enabled}  # fmt: skip
