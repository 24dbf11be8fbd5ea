from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view

from interventions import api

P = "projects/<int:project_id>/"
OBJECT = OpenApiTypes.OBJECT
OBJECTS = {"type": "array", "items": {"type": "object"}}
# What each kind of operation answers when it succeeds (see interventions.api).
RESPONSES = {
    "list": {200: OBJECTS},
    "create": {201: OBJECT},
    "destroy": {204: None},
    "deliveries": {200: OBJECTS},
    "resend": {202: OBJECT},
    "rotate_secret": {200: OBJECT},
    "runs": {200: OBJECTS},
    "run": {202: OBJECT},
}


def _documented(base: type, resource: str, operations: dict[str, str]) -> type:
    """A per-resource subclass whose OpenAPI operations have unique ids."""
    view = type(f"{resource.title()}{base.__name__}", (base,), {"resource": resource})
    schemas = {
        method: extend_schema(
            operation_id=f"{resource}_{name}",
            request=OBJECT,
            responses=RESPONSES.get(name, OBJECT),
            tags=[resource],
        )
        for method, name in operations.items()
    }
    return extend_schema_view(**schemas)(view)


urlpatterns = [
    path(
        f"{P}flags/evaluate",
        extend_schema_view(
            post=extend_schema(
                operation_id="flags_evaluate", request=OBJECT, responses=OBJECT, tags=["flags"]
            )
        )(api.FlagsEvaluateApi).as_view(),
        name="api_flags_evaluate",
    )
]
for resource in api.RESOURCES:
    list_view = _documented(api.InterventionListApi, resource, {"get": "list", "post": "create"})
    detail_view = _documented(
        api.InterventionDetailApi, resource, {"get": "retrieve", "patch": "update", "delete": "destroy"}
    )
    urlpatterns += [
        path(f"{P}{resource}/", list_view.as_view(), name=f"api_{resource}"),
        path(f"{P}{resource}/<int:object_id>/", detail_view.as_view(), name=f"api_{resource}_detail"),
    ]
for resource in ("flags", "nudges", "surveys"):
    results_view = _documented(api.ResultsApi, resource, {"get": "results"})
    urlpatterns.append(
        path(
            f"{P}{resource}/<int:object_id>/results/", results_view.as_view(), name=f"api_{resource}_results"
        )
    )
urlpatterns += [
    path(
        f"{P}webhooks/<int:object_id>/deliveries/",
        _documented(api.DeliveryListApi, "webhooks", {"get": "deliveries"}).as_view(),
        name="api_webhook_deliveries",
    ),
    path(
        f"{P}webhooks/<int:object_id>/rotate-secret/",
        _documented(api.WebhookRotateSecretApi, "webhooks", {"post": "rotate_secret"}).as_view(),
        name="api_webhook_rotate_secret",
    ),
    path(
        f"{P}webhooks/<int:object_id>/deliveries/<int:delivery_id>/resend/",
        _documented(api.DeliveryResendApi, "webhooks", {"post": "resend"}).as_view(),
        name="api_webhook_resend",
    ),
]
urlpatterns += [
    path(
        f"{P}syncs/<int:object_id>/runs/",
        _documented(api.SyncRunListApi, "syncs", {"get": "runs"}).as_view(),
        name="api_sync_runs",
    ),
    path(
        f"{P}syncs/<int:object_id>/run/",
        _documented(api.SyncRunNowApi, "syncs", {"post": "run"}).as_view(),
        name="api_sync_run",
    ),
    path(
        f"{P}syncs/<int:object_id>/rotate-secret/",
        _documented(api.SyncRotateSecretApi, "syncs", {"post": "rotate_secret"}).as_view(),
        name="api_sync_rotate_secret",
    ),
]
