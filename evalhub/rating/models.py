"""What raters see and where they are: pre-rendered item pages and rating sessions.

Item pages are written once at study launch, so a page view renders no markdown and reads
one row. A rating session is one participant (or logged-in author) in one study."""

from django.db import models

from evalhub.studies.models import Assignment, Item, Rater, Study


class ItemPage(models.Model):
    """One item as a rater sees it, rendered and sanitised at launch, plus its place in the
    assignment pool.

    `taken` counts the item's judgments plus its live reservations; an item is open while
    taken < k. `served` counts every reservation ever made and sets the left/right order.
    No model name, slug or id is stored here: the page is safe to show as it is."""

    item = models.OneToOneField(
        Item, primary_key=True, on_delete=models.CASCADE, related_name="page"
    )
    # Indexed by rating_pool_order_idx, which starts with it.
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+", db_index=False)
    is_gold = models.BooleanField(default=False)
    taken = models.PositiveIntegerField(default=0)
    served = models.PositiveIntegerField(default=0)
    # Earlier turns of a multi-turn prompt: [{"role": "user"|"assistant", "html": str}].
    context = models.JSONField(default=list, blank=True)
    prompt_html = models.TextField(blank=True)
    target_html = models.TextField(blank=True)
    baseline_html = models.TextField(blank=True)
    # Dialogue studies: [{"user_html": str, "assistant_html": str}], each assistant turn rated.
    turns = models.JSONField(default=list, blank=True)
    # Characters a careful rater reads; too-fast answers are measured against it.
    reading_chars = models.PositiveIntegerField(default=0)

    class Meta:
        # In the pool's order (fullest first), so the next open item is the index's first
        # row the rater never had, found without sorting.
        indexes = [
            models.Index(
                fields=["study", "is_gold", "-taken", "item"], name="rating_pool_order_idx"
            )
        ]

    def __str__(self) -> str:
        return f"page of item {self.item_id}"


class RaterSession(models.Model):
    """One rater's session in one study: their quota, progress, attention-check failures
    and the one live assignment they hold, named to the browser by `assignment_token`."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        SCREENED_OUT = "screened_out", "Screened out (attention checks)"
        EXHAUSTED = "exhausted", "No items left"
        EXCLUDED = "excluded", "Ended by exclusion"

    # Every answer rewrites the row: the fewer indexes it has, the cheaper that is, and with
    # none on the columns an answer changes the rewrite is a heap-only (HOT) update. So the
    # token's uniqueness is a constraint (no second, pattern-matching index), the study is
    # indexed by one_session_per_rater, and the live assignment is not indexed.
    token = models.CharField(max_length=64)
    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="rater_sessions", db_index=False
    )
    rater = models.ForeignKey(Rater, on_delete=models.CASCADE, related_name="sessions")
    prolific_study_id = models.CharField(max_length=100, blank=True)
    prolific_session_id = models.CharField(max_length=100, blank=True)
    quota = models.PositiveIntegerField()
    # Positions (0-based, in the order items are done) that serve an attention check.
    gold_positions = models.JSONField(default=list, blank=True)
    done = models.PositiveIntegerField(default=0)
    attention_failures = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    consented_at = models.DateTimeField(null=True, blank=True)
    assignment = models.ForeignKey(
        Assignment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    assignment_token = models.CharField(max_length=64, blank=True)
    # The per-minute answer limit, counted on this row (which every answer locks anyway)
    # rather than in Redis: the window (minutes since the epoch) and answers posted in it.
    limit_window = models.PositiveIntegerField(default=0)
    limit_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # While set, the rater is excluded from the study's results (evalhub.crowd).
    excluded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token"], name="rating_session_token_unique"),
            models.UniqueConstraint(fields=["study", "rater"], name="one_session_per_rater"),
        ]

    def __str__(self) -> str:
        return f"session {self.pk} of {self.rater_id} in {self.study_id}"

    @property
    def is_finished(self) -> bool:
        return self.status != self.Status.ACTIVE
