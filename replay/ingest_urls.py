from django.urls import path

from replay import ingest

urlpatterns = [
    path("recording", ingest.recording, name="ingest_recording"),
    path("recording/", ingest.recording),
]
