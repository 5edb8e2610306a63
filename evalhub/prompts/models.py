from django.db import models


class PromptSet(models.Model):
    """A named collection of prompts, e.g. LIMA test (300) or LIMA dev (50)."""

    team = models.ForeignKey(
        "teams.Team", null=True, on_delete=models.PROTECT, related_name="prompt_sets"
    )
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "slug"], nulls_distinct=False, name="prompt_set_slug_in_team"
            )
        ]

    def __str__(self) -> str:
        return self.slug


class Prompt(models.Model):
    """One request to answer. `context` holds earlier turns of a multi-turn dialogue as
    a list of {"role": "user"|"assistant", "content": str}; `text` is the final user turn."""

    prompt_set = models.ForeignKey(PromptSet, on_delete=models.CASCADE, related_name="prompts")
    external_id = models.CharField(max_length=200)
    text = models.TextField()
    context = models.JSONField(default=list, blank=True)
    category = models.CharField(max_length=100, blank=True, db_index=True)
    source = models.CharField(max_length=100, blank=True)
    # A reference answer, when the source has one (LIMA training and dev rows do).
    reference = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["prompt_set", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["prompt_set", "external_id"], name="prompt_unique_external_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.prompt_set.slug}/{self.external_id}"

    @property
    def is_multi_turn(self) -> bool:
        return bool(self.context)

    def messages(self) -> list[dict[str, str]]:
        """The chat messages to send to a model: earlier turns, then this prompt."""
        return [*self.context, {"role": "user", "content": self.text}]
