from django.db import models


class StatsEpoch(models.Model):
    """A stats scope's version in PostgreSQL, moved only when Redis could not take a bump.

    Cached results are keyed by it as well as by the Redis counter, so results cached before
    a write that Redis missed (it was down) are never served once it is back."""

    scope = models.CharField(max_length=100, primary_key=True)  # a study id, or "global"
    epoch = models.BigIntegerField(default=1)

    def __str__(self) -> str:
        return f"stats epoch {self.scope}: {self.epoch}"
