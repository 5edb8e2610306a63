"""Instruments as data: the question, choices and judge prompt a study asks, as versioned
rows. A study freezes its instrument's version and content hash at launch; editing an
instrument that a launched study uses makes a new version (evalhub.instruments.services)."""

from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.db import models

from evalhub.instruments.definitions import Definition, definition_from_data


class Instrument(models.Model):
    """One version of an instrument. `content_hash` is the sha256 of its content (see
    `Definition.content_hash`); presets are made by migration."""

    class Kind(models.TextChoices):
        PAIRWISE = "pairwise", "Pairwise preference"
        ABSOLUTE = "absolute", "Absolute labels (per output or per dialogue turn)"
        SCALE = "scale", "Numeric scale"

    class Levels(models.TextChoices):
        NOMINAL = "nominal", "Nominal"
        ORDINAL = "ordinal", "Ordinal"
        INTERVAL = "interval", "Interval"

    class Comment(models.TextChoices):
        OPTIONAL = "optional", "Optional"
        REQUIRED = "required", "Required"

    team = models.ForeignKey(
        "teams.Team", null=True, on_delete=models.PROTECT, related_name="instruments"
    )
    slug = models.SlugField(max_length=100)
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    levels = models.CharField(max_length=20, choices=Levels.choices, default=Levels.NOMINAL)
    intro = models.TextField(blank=True)
    question = models.TextField()
    # [{"key", "value", "label", "definition", "side"/"weight" (pairwise), "score" (scale)}]
    choices = models.JSONField(default=list)
    gold_choice = models.CharField(max_length=20, blank=True)
    comment = models.CharField(max_length=20, choices=Comment.choices, default=Comment.OPTIONAL)
    judge_template = models.TextField(blank=True)
    credit = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64)
    is_preset = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug", "-version"]
        constraints = [
            # Presets (team NULL) stay unique among themselves.
            models.UniqueConstraint(
                fields=["team", "slug", "version"],
                nulls_distinct=False,
                name="instrument_slug_version_in_team",
            )
        ]

    def __str__(self) -> str:
        return f"{self.slug} v{self.version}"

    @cached_property
    def definition(self) -> Definition:
        return definition_from_data(self.content())

    def content(self) -> dict:
        return {
            "kind": self.kind, "name": self.name, "intro": self.intro,
            "question": self.question, "choices": self.choices, "levels": self.levels,
            "comment": self.comment, "gold_choice": self.gold_choice,
            "judge_template": self.judge_template, "credit": self.credit,
        }  # fmt: skip
