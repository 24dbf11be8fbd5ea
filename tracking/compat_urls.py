"""URL patterns of the PostHog- and Segment-compatible endpoints, mounted at the site root."""

from django.urls import path

from tracking.ingest.compat import posthog, segment

urlpatterns = [
    *[
        pattern
        for prefix in ("e", "i/v0/e", "capture", "batch", "track")
        for pattern in (
            path(f"{prefix}/", posthog.capture, name=f"posthog_{prefix.replace('/', '_')}"),
            # mobile and server SDKs may leave the slash off; posthog-js always sends /e/
            *([path(prefix, posthog.capture)] if prefix != "e" else []),
        )
    ],
    path("v1/batch", segment.endpoint(None), name="segment_batch"),
    path("v1/b", segment.endpoint(None)),
    *[path(f"v1/{kind}", segment.endpoint(kind), name=f"segment_{kind}") for kind in segment.TYPES],
    *[path(f"v1/{short}", segment.endpoint(kind)) for short, kind in segment.SHORT_PATHS.items()],
]
