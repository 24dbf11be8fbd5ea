from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"

    def ready(self) -> None:
        from segments import (
            history_jobs,
            jobs,
            refresh,  # noqa: F401 - connects the ingestion receiver
        )

        jobs.register_kinds()
        history_jobs.register_kinds()
