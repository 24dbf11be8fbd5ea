from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "Tracking and tenancy"

    def ready(self) -> None:
        from tracking import signals  # noqa: F401 - connects receivers
        from tracking.ingest.batches import batches_store
        from tracking.ingest.queue import KIND_BATCH, handler_register

        handler_register(KIND_BATCH, batches_store)
