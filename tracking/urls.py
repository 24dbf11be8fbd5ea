from django.urls import path

from tracking.views import (
    accounts,
    actions,
    companies,
    events,
    install,
    overview,
    persons,
    settings,
)

P = "p/<int:project_id>/"

urlpatterns = [
    path("", accounts.home, name="home"),
    path("signup/", accounts.signup, name="signup"),
    path("invite/<str:token>/", accounts.invitation_view, name="invitation_accept"),
    path("projects/new/", settings.project_new, name="project_new"),
    # settings
    path(f"{P}settings/", settings.project_settings, name="project_settings"),
    path(f"{P}settings/install-check/", install.install_check, name="install_check"),
    path(f"{P}settings/members/", settings.members, name="members"),
    path(
        f"{P}settings/members/invitations/<int:invitation_id>/revoke/",
        settings.invitation_revoke,
        name="invitation_revoke",
    ),
    path(f"{P}settings/api-keys/", settings.api_keys, name="api_keys"),
    path(f"{P}settings/api-keys/<int:key_id>/revoke/", settings.api_key_revoke_view, name="api_key_revoke"),
    # collected data
    path(f"{P}overview/", overview.overview, name="overview"),
    path(f"{P}events/", events.events, name="events"),
    path(f"{P}persons/", persons.persons, name="persons"),
    path(f"{P}persons/<int:person_id>/", persons.person_detail, name="person_detail"),
    path(f"{P}companies/", companies.companies, name="companies"),
    path(f"{P}companies/<int:company_id>/", companies.company_detail, name="company_detail"),
    # retroactive event definitions
    path(f"{P}actions/", actions.actions, name="actions"),
    path(f"{P}actions/new/", actions.action_new, name="action_new"),
    path(f"{P}actions/<int:action_id>/", actions.action_detail, name="action_detail"),
    path(f"{P}actions/<int:action_id>/delete/", actions.action_delete_view, name="action_delete"),
]
