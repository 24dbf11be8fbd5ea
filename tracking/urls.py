from django.urls import path

from tracking.views import accounts, pages, settings

urlpatterns = [
    path("", accounts.home, name="home"),
    path("signup/", accounts.signup, name="signup"),
    path("invite/<str:token>/", accounts.invitation_view, name="invitation_accept"),
    path("projects/new/", settings.project_new, name="project_new"),
    path("p/<int:project_id>/settings/", settings.project_settings, name="project_settings"),
    path("p/<int:project_id>/settings/members/", settings.members, name="members"),
    path(
        "p/<int:project_id>/settings/members/invitations/<int:invitation_id>/revoke/",
        settings.invitation_revoke,
        name="invitation_revoke",
    ),
    path("p/<int:project_id>/settings/api-keys/", settings.api_keys, name="api_keys"),
    path("p/<int:project_id>/settings/api-keys/<int:key_id>/revoke/", settings.api_key_revoke_view, name="api_key_revoke"),
]
urlpatterns += [
    path(f"p/<int:project_id>/{section}/", view, name=section) for section, view in pages.upcoming_views.items()
]
