"""Live studies: raters chat with anonymous models (LIMA Section 6's live dialogues) or
judge live battles of two anonymous models (Chatbot Arena).

A live study is a launched `Study` (kind dialogue for conversations, pairwise for battles)
with a `LiveStudy` beside it. While a rater chats, the conversation lives here; when it is
finished it becomes the usual rows: a Prompt, one Output per model (with provenance), an
Item and a Judgment, so the dashboards, exports and leaderboard count it like any other."""

from __future__ import annotations

from django.db import models

from evalhub.studies.models import Item, Judge, Study


class LiveStudy(models.Model):
    """The live settings of a study. `models` is the study's target then baselines."""

    class Mode(models.TextChoices):
        CONVERSATION = "conversation", "Live conversation (per-turn labels)"
        BATTLE = "battle", "Live battle (pairwise vote)"

    class Participants(models.TextChoices):
        PROLIFIC = "prolific", "Prolific participants (entry link with their ids)"
        STAFF = "staff", "The lab's own staff (logged in; no Prolific ids or codes)"

    study = models.OneToOneField(
        Study, primary_key=True, on_delete=models.CASCADE, related_name="live"
    )
    mode = models.CharField(max_length=20, choices=Mode.choices)
    participants = models.CharField(
        max_length=20, choices=Participants.choices, default=Participants.PROLIFIC
    )
    max_turns = models.PositiveSmallIntegerField(default=3)
    # Battles: every pair of models reaches this many votes; conversations: per model.
    target_per_pair = models.PositiveIntegerField(default=10)
    # Battles: among pairs still short of their target, the pair whose vote most narrows the
    # BT intervals (evalhub.stats.pairing_design); off by default: no gain over uniform.
    adaptive = models.BooleanField(default=False)
    reveal_models = models.BooleanField(default=False)
    max_prompt_chars = models.PositiveIntegerField(default=4000)
    messages_per_minute = models.PositiveSmallIntegerField(default=6)
    # Moderation: refuse prompts containing any of these (case-insensitive) ...
    blocklist = models.JSONField(default=list, blank=True)
    # ... or that this judge flags (asked "Is this message harmful? yes/no").
    moderation_judge = models.ForeignKey(
        Judge, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Per-model limits by model slug: {"concurrency": n streams at once per web process,
    # "max_tokens": cap on each answer}.
    model_limits = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "live studies"

    def __str__(self) -> str:
        return f"live {self.mode} {self.study_id}"


class Conversation(models.Model):
    """One live conversation (one model) or battle (two models, `left` and `right`) of one
    rater session. `token` names it to the browser; model ids never leave the server."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        FINISHED = "finished", "Finished"
        ABANDONED = "abandoned", "Abandoned"

    token = models.CharField(max_length=64, unique=True)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(
        "rating.RaterSession", on_delete=models.CASCADE, related_name="live_conversations"
    )
    mode = models.CharField(max_length=20, choices=LiveStudy.Mode.choices)
    left = models.ForeignKey("outputs.ModelEntry", on_delete=models.PROTECT, related_name="+")
    right = models.ForeignKey(
        "outputs.ModelEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    vote = models.CharField(max_length=10, blank=True)
    item = models.OneToOneField(
        Item, null=True, blank=True, on_delete=models.SET_NULL, related_name="live_conversation"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["study", "status"])]

    def __str__(self) -> str:
        return f"conversation {self.pk} ({self.mode}, {self.status})"


class Turn(models.Model):
    """One assistant turn of one side ("A" = left or the only model, "B" = right), with its
    provenance. Failed turns are kept for the researcher and count toward nothing."""

    class Status(models.TextChoices):
        STREAMING = "streaming", "Streaming"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="turns")
    index = models.PositiveSmallIntegerField()
    side = models.CharField(max_length=1, default="A")
    user_text = models.TextField()
    assistant_text = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.STREAMING)
    error = models.TextField(blank=True)
    label = models.CharField(max_length=20, blank=True)
    # Model, endpoint, every sampling parameter, seed, token counts, timings (ms).
    provenance = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["conversation_id", "index", "side", "id"]
        constraints = [
            # One live (streaming or done) row per side and turn: a second send that races
            # past the checks of evalhub.live.turns is refused here.
            models.UniqueConstraint(
                fields=["conversation", "index", "side"],
                condition=~models.Q(status="failed"),
                name="live_turn_one_per_side",
            )
        ]

    def __str__(self) -> str:
        return f"turn {self.index}{self.side} of {self.conversation_id} ({self.status})"
