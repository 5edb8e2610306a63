from django.db import models


class ModelEntry(models.Model):
    """A model under evaluation. Local models run in vLLM, api models behind any
    OpenAI-compatible endpoint; external ones only receive outputs through the API."""

    class Kind(models.TextChoices):
        LOCAL = "local", "Local (vLLM)"
        API = "api", "OpenAI-compatible API"
        EXTERNAL = "external", "External (outputs submitted)"

    team = models.ForeignKey(
        "teams.Team", null=True, on_delete=models.PROTECT, related_name="models"
    )
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.EXTERNAL)
    # Local: a path or hub name of weights. API: the model name at the endpoint.
    model_path = models.CharField(max_length=500, blank=True)
    base_url = models.URLField(max_length=500, blank=True)
    api_key_env = models.CharField(max_length=100, blank=True)
    tensor_parallel_size = models.PositiveSmallIntegerField(default=1)
    generation_config = models.JSONField(default=dict, blank=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = "model"
        constraints = [
            models.UniqueConstraint(
                fields=["team", "slug"], nulls_distinct=False, name="model_slug_in_team"
            )
        ]

    def __str__(self) -> str:
        return self.slug


class Output(models.Model):
    """One model's answer to one prompt. `html` is the sanitised rendering, made once
    when the output arrives so no page view renders markdown."""

    prompt = models.ForeignKey("prompts.Prompt", on_delete=models.CASCADE, related_name="outputs")
    model = models.ForeignKey(ModelEntry, on_delete=models.CASCADE, related_name="outputs")
    sample_index = models.PositiveSmallIntegerField(default=0)
    text = models.TextField()
    html = models.TextField(blank=True)
    # For dialogue outputs: the assistant turns, in order (text of each).
    turns = models.JSONField(default=list, blank=True)
    # Provenance: sampling params, engine and version, chat-template sha256, seed,
    # token counts, finish reason. Free-form so every engine can say what it knows.
    provenance = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["prompt_id", "model_id", "sample_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["prompt", "model", "sample_index"], name="output_unique_sample"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model.slug} on {self.prompt_id}#{self.sample_index}"
