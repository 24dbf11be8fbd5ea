from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "analysis"
    verbose_name = "Analysis"

    def ready(self) -> None:
        from analysis import jobs, segment_jobs, trend_jobs

        jobs.register_kinds()
        trend_jobs.register_kinds()
        segment_jobs.register_kinds()
