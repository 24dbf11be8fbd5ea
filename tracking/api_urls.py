from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from tracking.api import actions, companies, events, persons, projects

P = "projects/<int:project_id>/"

urlpatterns = [
    path(
        "schema/",
        SpectacularAPIView.as_view(permission_classes=[], authentication_classes=[]),
        name="api_schema",
    ),
    path("projects/", projects.ProjectListApi.as_view(), name="api_projects"),
    path(P, projects.ProjectDetailApi.as_view(), name="api_project"),
    path(f"{P}persons/", persons.PersonListApi.as_view(), name="api_persons"),
    path(f"{P}persons/<int:person_id>/", persons.PersonDetailApi.as_view(), name="api_person"),
    path(f"{P}companies/", companies.CompanyListApi.as_view(), name="api_companies"),
    path(f"{P}companies/<int:company_id>/", companies.CompanyDetailApi.as_view(), name="api_company"),
    path(f"{P}events/", events.EventListApi.as_view(), name="api_events"),
    path(f"{P}actions/", actions.ActionListApi.as_view(), name="api_actions"),
    path(f"{P}actions/<int:action_id>/", actions.ActionDetailApi.as_view(), name="api_action"),
    path(f"{P}actions/<int:action_id>/events/", actions.ActionEventsApi.as_view(), name="api_action_events"),
]
