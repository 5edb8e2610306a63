"""Crowd quality: the record of every exclusion and re-inclusion of a rater in a study."""

from django.conf import settings
from django.db import models

from evalhub.studies.models import Rater, Study


class RaterExclusion(models.Model):
    """One researcher action on one rater in one study: who, when, why, and how many of
    the rater's judgments it moved out of (or back into) the results."""

    class Action(models.TextChoices):
        EXCLUDE = "exclude", "Excluded"
        INCLUDE = "include", "Included again"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="rater_exclusions")
    rater = models.ForeignKey(Rater, on_delete=models.CASCADE, related_name="exclusions")
    action = models.CharField(max_length=10, choices=Action.choices)
    reason = models.TextField()
    judgments = models.PositiveIntegerField(default=0)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["study", "rater"])]

    def __str__(self) -> str:
        return f"{self.action} rater {self.rater_id} in study {self.study_id}"
