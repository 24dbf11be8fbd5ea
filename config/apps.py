from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project itself: settings, URLs, and the process runner (`manage.py serve`)."""

    name = "config"
    verbose_name = "Sightline"
