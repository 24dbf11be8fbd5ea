from django.urls import path

from tracking.ingest import views

urlpatterns = [
    path("batch", views.batch, name="ingest_batch"),
    path("batch/", views.batch),
]
