"""Rows the judge workers keep beside `studies.Judgment`: the price table, the
content-addressed verdict cache, one record per API call, and swap-consistency per pair."""

from django.db import models


class JudgePrice(models.Model):
    """USD per million tokens for a judge model name (as sent to the endpoint).
    A model with no row is priced at zero, e.g. a local `vllm serve`."""

    model = models.CharField(max_length=200, unique=True)
    usd_per_mtok_in = models.DecimalField(max_digits=12, decimal_places=6)
    usd_per_mtok_out = models.DecimalField(max_digits=12, decimal_places=6)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model"]

    def __str__(self) -> str:
        return f"{self.model}: ${self.usd_per_mtok_in}/${self.usd_per_mtok_out} per Mtok"


class VerdictCacheEntry(models.Model):
    """A parsed verdict, addressed by the sha256 of everything that could change it (judge
    model and version, template hash, params, prompt, responses, order). Only successful
    parses are stored: failures are never cached."""

    key = models.CharField(max_length=64, unique=True)
    judge_version = models.CharField(max_length=64, db_index=True)
    raw_choice = models.CharField(max_length=100)
    verdict = models.CharField(max_length=20, blank=True)
    score = models.FloatField(null=True, blank=True)
    preference = models.FloatField(null=True, blank=True)  # weighted judges: P(target better)
    raw_response = models.TextField(blank=True)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"cached {self.raw_choice} ({self.key[:12]})"


class JudgeCall(models.Model):
    """One HTTP call to a judge endpoint (every attempt and re-ask is its own row), with
    the tokens it used and what it cost in USD."""

    class Outcome(models.TextChoices):
        OK = "ok", "Parsed"
        PARSE_FAILED = "parse_failed", "Answer did not parse"
        RATE_LIMITED = "rate_limited", "429"
        SERVER_ERROR = "server_error", "5xx"
        TIMEOUT = "timeout", "Timed out"
        CONNECTION = "connection", "Connection failed"
        MALFORMED = "malformed", "Malformed body"
        REJECTED = "rejected", "Refused (4xx, not retried)"

    judge = models.ForeignKey("studies.Judge", on_delete=models.CASCADE, related_name="calls")
    item = models.ForeignKey("studies.Item", on_delete=models.CASCADE, related_name="judge_calls")
    order = models.CharField(max_length=20)
    job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="judge_calls"
    )
    cache_key = models.CharField(max_length=64, db_index=True)
    attempt = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["judge", "item", "order"])]

    def __str__(self) -> str:
        return f"call {self.pk} {self.outcome}"


class PairConsistency(models.Model):
    """Whether a pairwise judge gave the same normalised verdict in both orders of an item.
    Written when both orders have parsed; the combined verdict under a policy is read
    through `selectors.judge_item_verdicts`."""

    judge = models.ForeignKey("studies.Judge", on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey("studies.Item", on_delete=models.CASCADE, related_name="+")
    target_first = models.CharField(max_length=20)
    baseline_first = models.CharField(max_length=20)
    consistent = models.BooleanField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["judge", "item"], name="pair_consistency_once")
        ]

    def __str__(self) -> str:
        return f"{self.judge_id}/{self.item_id}: {'consistent' if self.consistent else 'flip'}"
