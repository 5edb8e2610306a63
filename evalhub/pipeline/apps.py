from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "evalhub.pipeline"
    label = "pipeline"
    verbose_name = "LIMA pipelines"
