from django.db import models


class SharedFit(models.Model):
    """One heavy fit that several studies share, for one fingerprint of its inputs.

    `scope` names what the fit is about (e.g. a prompt set, baseline and judge group) and is
    the same for every fingerprint of it, so a page can find the last finished fit of its
    scope while a newer one is pending. `fingerprint` digests the scope and the data the fit
    reads: a new judgment, an exclusion or another model makes a new fingerprint. Stored in
    PostgreSQL so that finished fits survive a Redis flush or restart.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # queued or running in its job
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        # The data moved while the job ran: it stored its result under the new fingerprint.
        SUPERSEDED = "superseded", "Superseded"

    kind = models.CharField(max_length=60)
    scope = models.CharField(max_length=300)
    fingerprint = models.CharField(max_length=64)
    inputs = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    # How many times the fit was computed for this fingerprint (1 when all went well).
    compute_runs = models.PositiveIntegerField(default=0)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "fingerprint"], name="fits_one_per_fingerprint")
        ]
        indexes = [models.Index(fields=["kind", "scope", "status", "-finished_at"])]

    def __str__(self) -> str:
        return f"{self.kind} fit {self.fingerprint[:12]} ({self.status})"
