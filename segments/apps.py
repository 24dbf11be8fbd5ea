from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"

    def ready(self) -> None:
        from segments import refresh  # noqa: F401 - connects the ingestion receiver
        from segments.jobs import register_kinds

        register_kinds()
