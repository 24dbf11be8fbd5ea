"""The ingestion lane's URLs (config.settings_ingest): what snippets and SDKs call, as config.urls serves it."""

from django.urls import include, path

urlpatterns = [
    path("health/", include("tracking.health_urls")),
    path("i/v1/", include("tracking.ingest_urls")),
    path("i/v1/", include("interventions.ingest_urls")),
    path("i/v1/", include("replay.ingest_urls")),
    # PostHog- and Segment-compatible endpoints (docs/wire-protocol.md, docs/send-from-anywhere.md)
    path("", include("tracking.compat_urls")),
    path("", include("interventions.compat_urls")),
    path("", include("replay.compat_urls")),
]
