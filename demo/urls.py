"""Tasklane, the demo site, mounted at /demo/ (see demo.site)."""

from django.urls import path

from demo import views as demo

app_name = "demo"

urlpatterns = [
    path("", demo.landing, name="landing"),
    path("pricing/", demo.pricing, name="pricing"),
    path("signup/", demo.signup, name="signup"),
    path("welcome/", demo.onboarding, name="onboarding"),
    path("board/", demo.board, name="board"),
    path("board/<slug:tab>/", demo.board, name="board_tab"),
    path("checkout/", demo.checkout, name="checkout"),
    path("checkout/complete/", demo.checkout_complete, name="checkout_complete"),
]
