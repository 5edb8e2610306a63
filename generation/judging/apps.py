from django.apps import AppConfig


class JudgingConfig(AppConfig):
    name = "generation.judging"
    label = "judging"
    verbose_name = "LLM judging"
