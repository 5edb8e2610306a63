from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "evalhub.pipeline"
    label = "pipeline"
    verbose_name = "LIMA pipelines"

    def ready(self) -> None:
        from evalhub.pipeline import signals  # noqa: F401  (connects the job_finished receiver)
