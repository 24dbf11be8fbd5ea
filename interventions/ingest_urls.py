from django.urls import path

from interventions import decide

urlpatterns = [
    path("decide", decide.decide, name="decide"),
    path("decide/", decide.decide),
]
