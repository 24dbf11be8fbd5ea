"""REST: flags, nudges, surveys, webhooks, alerts, segment syncs (runs, run now); flags/evaluate; measurement results.

Bodies are plain JSON; validation happens in interventions.services and comes
back as 400 with the offending field.
"""

from __future__ import annotations

import json

from django.http import Http404
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from interventions import services, syncs
from interventions.measure import measure
from interventions.models import (
    FeatureFlag,
    Nudge,
    SegmentAlert,
    SegmentSync,
    SegmentSyncBatch,
    Survey,
    Webhook,
    WebhookDelivery,
)
from interventions.webhooks import resend
from tracking.api.base import ProjectAPIView
from tracking.traffic.filtering import TrafficFilter

_TARGETED = [
    "id",
    "name",
    "status",
    "url_matching",
    "url",
    "starts_at",
    "ends_at",
    "holdout_percent",
    "goal",
    "live_since",
    "created_at",
    "updated_at",
]


RESOURCES = {
    "flags": (FeatureFlag, ["id", "key", "description", "enabled", "variants", "rules", "bucket_by", "goal", "created_at", "updated_at"], services.flag_save, "flag"),
    "nudges": (Nudge, [*_TARGETED, *services.NUDGE_FIELDS], services.nudge_save, "nudge"),
    "surveys": (Survey, [*_TARGETED, "key", "intro", "questions", "thank_you"], services.survey_save, "survey"),
    "webhooks": (Webhook, ["id", "name", "url", "secret", "on_entry", "on_exit", "active", "created_at"], services.webhook_save, "webhook"),
    "syncs": (SegmentSync, ["id", "segment_id", "daily_file", "webhook_url", "secret", "batch_size", "push_current_members", "enabled", "push_started_at", "push_failures", "next_push_at", "last_pushed_at", "last_push_error", "last_file_at", "last_file_error", "created_at", "updated_at"], syncs.sync_save, "sync"),
    "alerts": (SegmentAlert, ["id", "segment_id", "threshold_percent", "window", "emails", "webhook_id", "active", "last_triggered_at", "last_change_percent"], services.alert_save, "alert"),
}  # fmt: skip


def _save(resource: str, project, data: dict, obj=None, user=None):
    _, _, save, arg = RESOURCES[resource]
    kwargs = {"project": project, "data": data, arg: obj}
    if resource in ("flags", "nudges", "surveys", "syncs") and obj is None:
        kwargs["user"] = user
    return save(**kwargs)


class _ResourceApi(ProjectAPIView):
    resource = ""

    def dump(self, obj, *, created: bool = False) -> dict:
        """The object's fields, with a webhook's signing secret only where the web app shows it.

        That is the creator's create answer, and owners and admins: with the
        secret, anyone can forge deliveries to the receiver.
        """
        data = {name: getattr(obj, name) for name in RESOURCES[self.resource][1]}
        if "secret" in data and not (created or self.can_manage):
            data["secret"] = None
        if hasattr(obj, "segments") and not isinstance(obj, FeatureFlag):
            data["segments"] = sorted(obj.segments.values_list("pk", flat=True))
        return data


class InterventionListApi(_ResourceApi):
    def get(self, request, project_id: int):
        model = RESOURCES[self.resource][0]
        return Response([self.dump(o) for o in model.objects.filter(project=self.project).order_by("pk")])

    def post(self, request, project_id: int):
        if not isinstance(request.data, dict):
            return Response({"detail": "Send a JSON object."}, status=status.HTTP_400_BAD_REQUEST)
        obj = _save(self.resource, self.project, dict(request.data), user=request.user)
        # the creator sees a new webhook's secret, to configure the receiver with it
        return Response(self.dump(obj, created=True), status=status.HTTP_201_CREATED)


class InterventionDetailApi(_ResourceApi):
    def get_object(self):
        model = RESOURCES[self.resource][0]
        obj = model.objects.filter(project=self.project, pk=self.kwargs["object_id"]).first()
        if obj is None:
            raise Http404("Not found")
        return obj

    def get(self, request, project_id: int, object_id: int):
        return Response(self.dump(self.get_object()))

    def patch(self, request, project_id: int, object_id: int):
        if not isinstance(request.data, dict):
            return Response({"detail": "Send a JSON object."}, status=status.HTTP_400_BAD_REQUEST)
        obj = _save(self.resource, self.project, dict(request.data), obj=self.get_object())
        return Response(self.dump(obj))

    def delete(self, request, project_id: int, object_id: int):
        services.intervention_delete(obj=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ResultsApi(InterventionDetailApi):
    """`GET …/{kind}/{id}/results/` — exposed vs holdout (or variants) on the goal; `?goal=` JSON overrides it."""

    http_method_names = ["get", "head", "options"]

    def get(self, request, project_id: int, object_id: int):
        obj = self.get_object()
        goal = None
        if request.query_params.get("goal"):
            try:
                goal = json.loads(request.query_params["goal"])
            except ValueError:
                return Response({"goal": ["Not valid JSON."]}, status=status.HTTP_400_BAD_REQUEST)
        segment_ids = [] if isinstance(obj, FeatureFlag) else list(obj.segments.values_list("pk", flat=True))
        if isinstance(obj, FeatureFlag):
            segment_ids = [r["segment"] for r in obj.rules if r.get("segment")]
        result = measure(
            project=self.project,
            kind=RESOURCES[self.resource][3],
            obj=obj,
            goal=goal,
            segment_ids=segment_ids,
            traffic=TrafficFilter.from_request(request.query_params),
        )
        if result.error and goal is not None:
            return Response({"goal": [result.error]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(result.as_dict())


class FlagsEvaluateApi(ProjectAPIView):
    """`POST …/flags/evaluate` with `{"distinct_ids": [...]}` → `{distinct_id: {flag: value}}`."""

    def post(self, request, project_id: int):
        ids = request.data.get("distinct_ids") if isinstance(request.data, dict) else None
        if isinstance(ids, str):
            ids = [ids]
        if (
            not isinstance(ids, list)
            or not ids
            or len(ids) > 1000
            or not all(isinstance(i, str) and i for i in ids)
        ):
            return Response(
                {"distinct_ids": ["A list of 1 to 1000 distinct ids."]}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response(services.flags_evaluate(project=self.project, distinct_ids=ids))


class DeliveryListApi(InterventionDetailApi):
    resource = "webhooks"
    http_method_names = ["get", "head", "options"]

    def get(self, request, project_id: int, object_id: int):
        hook = self.get_object()
        deliveries = hook.deliveries.all()[:200]
        return Response(
            [
                {
                    "id": d.pk,
                    "event": d.event,
                    "state": d.state,
                    "attempts": d.attempts,
                    "last_status_code": d.last_status_code,
                    "last_error": d.last_error,
                    "created_at": d.created_at,
                    "delivered_at": d.delivered_at,
                    "payload": d.payload,
                }
                for d in deliveries
            ]
        )


class WebhookRotateSecretApi(InterventionDetailApi):
    """`POST …/webhooks/{id}/rotate-secret/` — a new signing secret; the old one stops verifying at once."""

    resource = "webhooks"
    http_method_names = ["post", "options"]

    def post(self, request, project_id: int, object_id: int):
        hook = self.get_object()
        if not self.can_manage:
            raise PermissionDenied("Only owners and admins can rotate a webhook's signing secret.")
        return Response({"id": hook.pk, "secret": services.webhook_rotate_secret(webhook=hook)})


class DeliveryResendApi(ProjectAPIView):
    def post(self, request, project_id: int, object_id: int, delivery_id: int):
        delivery = WebhookDelivery.objects.filter(
            project=self.project, webhook_id=object_id, pk=delivery_id
        ).first()
        if delivery is None:
            raise Http404("Not found")
        resend(delivery)
        return Response({"id": delivery.pk, "state": delivery.state}, status=status.HTTP_202_ACCEPTED)


class SyncRunListApi(InterventionDetailApi):
    """`GET …/syncs/{id}/runs/` — the latest runs, newest first, each push run with its batches."""

    resource = "syncs"
    http_method_names = ["get", "head", "options"]

    def get(self, request, project_id: int, object_id: int):
        sync = self.get_object()
        runs = list(sync.runs.order_by("-started_at", "-pk")[:100])
        batches: dict[int, list] = {}
        for b in SegmentSyncBatch.objects.filter(run__in=runs).order_by("pk"):
            batches.setdefault(b.run_id, []).append(
                {"id": b.pk, "entered": b.entered, "exited": b.exited, "delivered": b.delivered,
                 "status_code": b.status_code, "error": b.error, "duration_ms": b.duration_ms, "sent_at": b.sent_at}
            )  # fmt: skip
        return Response(
            [
                {"id": r.pk, "kind": r.kind, "status": r.status, "started_at": r.started_at,
                 "finished_at": r.finished_at, "rows": r.rows, "file_name": r.file_name or None,
                 "file_bytes": r.file_bytes, "batches": batches.get(r.pk, []) if r.kind == "push" else None,
                 "error": r.error}
                for r in runs
            ]
        )  # fmt: skip


class SyncRunNowApi(InterventionDetailApi):
    """`POST …/syncs/{id}/run/` — write today's file and push what changed now; answers what was queued."""

    resource = "syncs"
    http_method_names = ["post", "options"]

    def post(self, request, project_id: int, object_id: int):
        sync = self.get_object()
        return Response(
            {"id": sync.pk, "queued": syncs.sync_run_now(sync=sync)}, status=status.HTTP_202_ACCEPTED
        )


class SyncRotateSecretApi(InterventionDetailApi):
    """`POST …/syncs/{id}/rotate-secret/` — a new signing secret; the old one stops verifying at once."""

    resource = "syncs"
    http_method_names = ["post", "options"]

    def post(self, request, project_id: int, object_id: int):
        sync = self.get_object()
        if not self.can_manage:
            raise PermissionDenied("Only owners and admins can rotate a sync's signing secret.")
        return Response({"id": sync.pk, "secret": syncs.sync_rotate_secret(sync=sync)})
