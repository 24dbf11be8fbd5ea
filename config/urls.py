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
    path("health/", include("tracking.health_urls")),
    path("i/v1/", include("tracking.ingest_urls")),
    path("i/v1/", include("interventions.ingest_urls")),
    path("i/v1/", include("replay.ingest_urls")),
    path("api/v1/", include("tracking.api_urls")),
    # PostHog- and Segment-compatible endpoints (docs/wire-protocol.md, docs/send-from-anywhere.md)
    path("", include("tracking.compat_urls")),
    path("", include("interventions.compat_urls")),
    path("", include("replay.compat_urls")),
    path("demo/", include("demo.urls")),
    path("api/v1/", include("segments.api_urls")),
    path("api/v1/", include("replay.api_urls")),
    path("api/v1/", include("interventions.api_urls")),
    path("api/v1/", include("analysis.api_urls")),
    path("api/v1/", include("jobs.api_urls")),
    path("", include("replay.urls")),
    path("", include("segments.urls")),
    path("", include("analysis.urls")),
    path("", include("jobs.urls")),
    path("", include("interventions.urls")),
    path("", include("tracking.urls")),
]
