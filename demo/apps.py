from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Tasklane, the demo site, and the generator of its world; sits above every other app."""

    name = "demo"
    verbose_name = "Demo"
