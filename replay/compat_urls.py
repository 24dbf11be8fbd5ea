"""posthog-js recordings and remote config, mounted at the site root (see replay/compat_posthog.py)."""

from django.urls import path

from replay import compat_posthog

urlpatterns = [
    path("s/", compat_posthog.snapshots, name="posthog_snapshots"),
    path("array/<str:token>/config", compat_posthog.config, name="posthog_remote_config"),
    path("array/<str:token>/config.js", compat_posthog.config_script, name="posthog_remote_config_script"),
]
