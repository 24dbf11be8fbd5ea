from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"
    ),
    path("i/v1/", include("tracking.ingest.urls")),
    path("i/v1/", include("interventions.urls_ingest")),
    path("i/v1/", include("replay.urls_ingest")),
    # PostHog- and Segment-compatible endpoints (docs/wire-protocol.md, docs/send-from-anywhere.md)
    path("", include("tracking.ingest.compat.urls")),
    path("", include("interventions.urls_posthog")),
    path("", include("replay.urls_posthog")),
    path("demo/", include("tracking.demo_urls")),
    path("api/v1/", include("tracking.api.urls")),
    path("api/v1/", include("segments.api_urls")),
    path("api/v1/", include("replay.api_urls")),
    path("api/v1/", include("interventions.api_urls")),
    path("api/v1/", include("analysis.api_urls")),
    path("", include("replay.urls")),
    path("", include("segments.urls")),
    path("", include("analysis.urls")),
    path("", include("interventions.urls")),
    path("", include("tracking.urls")),
]
