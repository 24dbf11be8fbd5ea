from django.urls import path

from replay import views

urlpatterns = [
    path("p/<int:project_id>/replay/", views.recordings, name="replay"),
    path("p/<int:project_id>/replay/retention/", views.retention, name="replay_retention"),
    path(
        "p/<int:project_id>/replay/retention/<int:rule_id>/delete/",
        views.retention_rule_remove,
        name="replay_retention_delete",
    ),
    path("p/<int:project_id>/replay/<int:recording_id>/", views.player, name="replay_player"),
]
