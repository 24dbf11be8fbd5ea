"""PostHog-compatible flag endpoints, mounted at the site root (see interventions/compat_posthog.py)."""

from django.urls import path

from interventions import compat_posthog

urlpatterns = [
    path("flags/", compat_posthog.flags, name="posthog_flags"),
    path("flags", compat_posthog.flags),
    path("decide/", compat_posthog.decide, name="posthog_decide"),
    path("decide", compat_posthog.decide),
]
