from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "Tracking and tenancy"

    def ready(self) -> None:
        from tracking import signals  # noqa: F401 - connects receivers
