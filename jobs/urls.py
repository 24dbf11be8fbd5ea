from django.urls import path

from jobs import views

J = "p/<int:project_id>/jobs/<int:job_id>/"
urlpatterns = [
    path(J, views.job_panel, name="job_panel"),
    path(f"{J}release/", views.job_release_view, name="job_release"),
    path(f"{J}cancel/", views.job_cancel_view, name="job_cancel"),
]
