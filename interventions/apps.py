from django.apps import AppConfig


class InterventionsConfig(AppConfig):
    name = "interventions"

    def ready(self) -> None:
        from interventions import decide, exposures, targeting, webhooks  # noqa: F401 - connects receivers

        decide.register_parts(targeting.decide_parts)

        from interventions.jobs import register_kinds

        register_kinds()
