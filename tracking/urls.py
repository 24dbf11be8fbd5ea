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

from tracking.views import companies, events, install, overview, persons  # noqa: E402

urlpatterns += [
    path("p/<int:project_id>/overview/", overview.overview, name="overview"),
    path("p/<int:project_id>/events/", events.events, name="events"),
    path("p/<int:project_id>/persons/", persons.persons, name="persons"),
    path("p/<int:project_id>/persons/<int:person_id>/", persons.person_detail, name="person_detail"),
    path("p/<int:project_id>/companies/", companies.companies, name="companies"),
    path("p/<int:project_id>/companies/<int:company_id>/", companies.company_detail, name="company_detail"),
    path("p/<int:project_id>/settings/install-check/", install.install_check, name="install_check"),
]

from tracking.views import actions, trends  # noqa: E402

urlpatterns += [
    path("p/<int:project_id>/actions/", actions.actions, name="actions"),
    path("p/<int:project_id>/actions/new/", actions.action_new, name="action_new"),
    path("p/<int:project_id>/actions/<int:action_id>/", actions.action_detail, name="action_detail"),
    path("p/<int:project_id>/actions/<int:action_id>/delete/", actions.action_delete_view, name="action_delete"),
    path("p/<int:project_id>/events/trends/", trends.trends, name="trends"),
]
