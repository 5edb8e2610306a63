"""A release: a closed study published as a versioned dataset (parquet files, a dataset card,
checksums, one archive). A later version never changes an earlier one."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models


class Release(models.Model):
    class Status(models.TextChoices):
        BUILDING = "building", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    study = models.ForeignKey("studies.Study", on_delete=models.CASCADE, related_name="releases")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BUILDING)
    job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the researcher chose when publishing.
    license = models.CharField(max_length=50, default="cc-by-4.0")
    include_comments = models.BooleanField(default=False)
    withhold_model_names = models.BooleanField(default=False)
    # Filled in when the build succeeds. `folder` is relative to settings.RELEASES_DIR.
    folder = models.CharField(max_length=300, blank=True)
    archive_sha256 = models.CharField(max_length=64, blank=True)
    archive_bytes = models.BigIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    changes = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    # Where it was pushed ("<repo_id>@<commit>"), when a hub is configured.
    pushed_to = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["study_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["study", "version"], name="release_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.study_id} v{self.version} ({self.status})"

    @property
    def path(self) -> Path:
        """The release folder on disk (only meaningful once ready)."""
        return Path(settings.RELEASES_DIR) / self.folder

    @property
    def archive_path(self) -> Path:
        return self.path.with_suffix(".zip")

    @property
    def archive_name(self) -> str:
        return f"{self.study.slug}-v{self.version}.zip"
