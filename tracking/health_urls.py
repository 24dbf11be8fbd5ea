from django.urls import path

from tracking.ingest.views import ingest_health

urlpatterns = [
    path("ingest", ingest_health, name="health_ingest"),
]
