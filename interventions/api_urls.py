from django.urls import path

from interventions import api

P = "projects/<int:project_id>/"
urlpatterns = [path(f"{P}flags/evaluate", api.FlagsEvaluateApi.as_view(), name="api_flags_evaluate")]
for resource in api.RESOURCES:
    urlpatterns += [
        path(f"{P}{resource}/", api.InterventionListApi.as_view(resource=resource), name=f"api_{resource}"),
        path(f"{P}{resource}/<int:object_id>/", api.InterventionDetailApi.as_view(resource=resource), name=f"api_{resource}_detail"),
    ]
for resource in ("flags", "nudges", "surveys"):
    urlpatterns.append(
        path(f"{P}{resource}/<int:object_id>/results/", api.ResultsApi.as_view(resource=resource), name=f"api_{resource}_results")
    )
urlpatterns += [
    path(f"{P}webhooks/<int:object_id>/deliveries/", api.DeliveryListApi.as_view(), name="api_webhook_deliveries"),
    path(
        f"{P}webhooks/<int:object_id>/deliveries/<int:delivery_id>/resend/",
        api.DeliveryResendApi.as_view(),
        name="api_webhook_resend",
    ),
]
