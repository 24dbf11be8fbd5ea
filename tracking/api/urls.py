from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from tracking.api import projects

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(permission_classes=[], authentication_classes=[]), name="api_schema"),
    path("projects/", projects.ProjectListApi.as_view(), name="api_projects"),
    path("projects/<int:project_id>/", projects.ProjectDetailApi.as_view(), name="api_project"),
]

from tracking.api import companies, events, persons  # noqa: E402

urlpatterns += [
    path("projects/<int:project_id>/persons/", persons.PersonListApi.as_view(), name="api_persons"),
    path("projects/<int:project_id>/persons/<int:person_id>/", persons.PersonDetailApi.as_view(), name="api_person"),
    path("projects/<int:project_id>/companies/", companies.CompanyListApi.as_view(), name="api_companies"),
    path(
        "projects/<int:project_id>/companies/<int:company_id>/", companies.CompanyDetailApi.as_view(), name="api_company"
    ),
    path("projects/<int:project_id>/events/", events.EventListApi.as_view(), name="api_events"),
]

from tracking.api import actions, trends  # noqa: E402

urlpatterns += [
    path("projects/<int:project_id>/actions/", actions.ActionListApi.as_view(), name="api_actions"),
    path("projects/<int:project_id>/actions/<int:action_id>/", actions.ActionDetailApi.as_view(), name="api_action"),
    path(
        "projects/<int:project_id>/actions/<int:action_id>/events/",
        actions.ActionEventsApi.as_view(),
        name="api_action_events",
    ),
    path("projects/<int:project_id>/trends/", trends.TrendsApi.as_view(), name="api_trends"),
]
