from django.apps import AppConfig


class ReplayConfig(AppConfig):
    name = "replay"
    verbose_name = "Session replay"

    def ready(self) -> None:
        from interventions import decide
        from replay import signals  # noqa: F401 - connects the receivers
        from replay.decide import recording_decision
        from replay.queue import KIND_RECORDING, recordings_store
        from tracking.ingest.queue import handler_register

        decide.register("recording", recording_decision)
        handler_register(KIND_RECORDING, recordings_store)
