import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q


def new_crowd_code() -> str:
    """A fresh public code for a study's crowd and live links (16 URL-safe characters)."""
    return secrets.token_urlsafe(12)


class Judge(models.Model):
    """An LLM judge: a model at an OpenAI-compatible endpoint with a template and params.
    `version_hash` changes whenever anything that could change a verdict changes."""

    class VerdictMode(models.TextChoices):
        GUIDED_CHOICE = "guided_choice", "Guided choice (vLLM structured outputs)"
        JSON_SCHEMA = "json_schema", "JSON schema"
        FINAL_LINE = "final_line", "Parse the final verdict line"
        WEIGHTED = "weighted", "Weighted: P(verdict) from the verdict token's logprobs"

    class Template(models.TextChoices):
        LIMA_PAIRWISE = "lima_pairwise", "LIMA pairwise"
        LIMA_LIKERT = "lima_likert", "LIMA Likert helpfulness (1-6)"
        FAIL_PASS_EXCELLENT = "fail_pass_excellent", "Fail / Pass / Excellent"
        CUSTOM = "custom", "Custom"
        # Asks each study's own instrument: its question and choices, its judge template.
        INSTRUMENT = "instrument", "The study's instrument"

    team = models.ForeignKey(
        "teams.Team", null=True, on_delete=models.PROTECT, related_name="judges"
    )
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    model = models.CharField(max_length=200)
    base_url = models.URLField(max_length=500)
    api_key_env = models.CharField(max_length=100, blank=True)
    template = models.CharField(max_length=40, choices=Template.choices)
    custom_template = models.TextField(blank=True)
    params = models.JSONField(default=dict, blank=True)
    verdict_mode = models.CharField(
        max_length=20, choices=VerdictMode.choices, default=VerdictMode.GUIDED_CHOICE
    )
    version_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "slug"], nulls_distinct=False, name="judge_slug_in_team"
            )
        ]

    def __str__(self) -> str:
        return self.slug


class Rater(models.Model):
    """A human rater. Crowd participants are known only by a keyed hash of their external id."""

    class Group(models.TextChoices):
        CROWD = "crowd", "Crowd"
        AUTHOR = "author", "Author"

    group = models.CharField(max_length=20, choices=Group.choices)
    external_id_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(external_id_hash__isnull=False) | Q(user__isnull=False),
                name="rater_has_identity",
            )
        ]

    def __str__(self) -> str:
        return f"{self.group}:{self.pk}"


class Study(models.Model):
    """Compares a target model with baselines over a prompt set. At launch the config is
    frozen into `config` and hashed into `config_hash`."""

    class Kind(models.TextChoices):
        PAIRWISE = "pairwise", "Pairwise preference"
        ABSOLUTE = "absolute", "Fail / Pass / Excellent"
        DIALOGUE = "dialogue", "Dialogue (per-turn Fail / Pass / Excellent)"
        LIKERT = "likert", "Likert helpfulness (1-6)"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        LAUNCHED = "launched", "Launched"
        CLOSED = "closed", "Closed"

    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="studies")
    slug = models.SlugField(max_length=100)
    # What the crowd and live links name the study by: global and unguessable, so a link
    # reveals neither the team nor its naming (slugs are only unique within a team).
    crowd_code = models.CharField(max_length=32, unique=True, default=new_crowd_code)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PAIRWISE)
    # What raters and judges are asked; frozen (slug, version, hash) into `config` at launch.
    # A study that names none gets its kind's LIMA preset at launch.
    instrument = models.ForeignKey(
        "instruments.Instrument",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="studies",
    )
    prompt_set = models.ForeignKey(
        "prompts.PromptSet", on_delete=models.PROTECT, related_name="studies"
    )
    target_model = models.ForeignKey(
        "outputs.ModelEntry", on_delete=models.PROTECT, related_name="target_studies"
    )
    baselines = models.ManyToManyField(
        "outputs.ModelEntry", related_name="baseline_studies", blank=True
    )
    judges = models.ManyToManyField(Judge, related_name="studies", blank=True)
    raters_per_item = models.PositiveSmallIntegerField(default=3)
    attention_check_rate = models.FloatField(default=0.1)
    session_quota = models.PositiveIntegerField(default=20)
    reservation_seconds = models.PositiveIntegerField(default=15 * 60)
    completion_code = models.CharField(max_length=100, blank=True)
    screenout_code = models.CharField(max_length=100, blank=True)
    inconsistent_pair_policy = models.CharField(max_length=20, default="tie")
    # Crowd-quality thresholds and the Prolific bonus rule (evalhub.crowd.rules), each key
    # optional: what is missing takes its default.
    quality_rules = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    config = models.JSONField(default=dict, blank=True)
    config_hash = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "studies"
        constraints = [models.UniqueConstraint(fields=["team", "slug"], name="study_slug_in_team")]

    def __str__(self) -> str:
        return self.slug


class Item(models.Model):
    """One unit to judge: a target/baseline pair for a prompt, or a single output.
    Gold items are attention checks with a known answer, kept apart from real items."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="items")
    prompt = models.ForeignKey("prompts.Prompt", on_delete=models.PROTECT, related_name="items")
    target_output = models.ForeignKey(
        "outputs.Output", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    baseline_output = models.ForeignKey(
        "outputs.Output", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    is_gold = models.BooleanField(default=False)
    gold_answer = models.CharField(max_length=20, blank=True)
    judgment_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # No index on judgment_count: every answer adds one to it, and with none the row's
        # rewrite can be a heap-only (HOT) update instead of a new entry in each of the
        # table's indexes. A study's items are found by the study's own index.
        ordering = ["id"]

    def __str__(self) -> str:
        return f"item {self.pk} of {self.study_id}"


class Assignment(models.Model):
    """An item reserved for one rater. `target_side` records which side the target
    was shown on ("A" = left); the rater never learns which model is which."""

    class Status(models.TextChoices):
        RESERVED = "reserved", "Reserved"
        SUBMITTED = "submitted", "Submitted"
        EXPIRED = "expired", "Expired"

    # No index of its own: assignment_once_per_rater (item, rater) serves lookups by item, and
    # every reservation writes one index less.
    item = models.ForeignKey(
        Item, on_delete=models.CASCADE, related_name="assignments", db_index=False
    )
    rater = models.ForeignKey(Rater, on_delete=models.CASCADE, related_name="assignments")
    target_side = models.CharField(max_length=1, choices=[("A", "A"), ("B", "B")], default="A")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RESERVED)
    reserved_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "rater"], name="assignment_once_per_rater")
        ]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"assignment {self.pk} ({self.status})"


class Judgment(models.Model):
    """One verdict on an item by a human rater (through an assignment) or an LLM judge.

    verdict: target / baseline / tie for pairwise, fail / pass / excellent for labels;
    score: 1-6 for Likert. `order` is the order the responses were shown in."""

    class Verdict(models.TextChoices):
        TARGET = "target", "Target better"
        BASELINE = "baseline", "Baseline better"
        TIE = "tie", "Neither"
        FAIL = "fail", "Fail"
        PASS = "pass", "Pass"
        EXCELLENT = "excellent", "Excellent"

    class Order(models.TextChoices):
        TARGET_FIRST = "target_first", "Target shown first"
        BASELINE_FIRST = "baseline_first", "Baseline shown first"
        SINGLE = "single", "Single output"

    class ParseState(models.TextChoices):
        OK = "ok", "Parsed"
        FAILED = "failed", "Parse failed"
        ERROR = "error", "Call failed"

    # Neither has an index of its own: (item, judge_group) and judgment_once_per_judge_item_order
    # serve lookups by item and by judge, and every judgment writes two indexes less.
    item = models.ForeignKey(
        Item, on_delete=models.CASCADE, related_name="judgments", db_index=False
    )
    assignment = models.OneToOneField(
        Assignment, null=True, blank=True, on_delete=models.CASCADE, related_name="judgment"
    )
    rater = models.ForeignKey(
        Rater, null=True, blank=True, on_delete=models.CASCADE, related_name="judgments"
    )
    judge = models.ForeignKey(
        Judge,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="judgments",
        db_index=False,
    )
    # Who judged, as the dashboards group them: "crowd", "author", or "llm:<judge slug>".
    judge_group = models.CharField(max_length=120, db_index=True)
    order = models.CharField(max_length=20, choices=Order.choices, default=Order.SINGLE)
    raw_choice = models.CharField(max_length=100, blank=True)
    verdict = models.CharField(max_length=20, choices=Verdict.choices, blank=True)
    score = models.FloatField(null=True, blank=True)
    # Pairwise only, when the judge gave a probability rather than just a verdict:
    # P(target better than baseline) in [0, 1] (a logprob-weighted judge, an imported
    # AlpacaEval `preference` - 1 seen from the target). The verdict is kept beside it.
    preference = models.FloatField(null=True, blank=True)
    turn_labels = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True)
    time_on_task_ms = models.PositiveIntegerField(null=True, blank=True)
    too_fast = models.BooleanField(default=False)
    is_attention_check = models.BooleanField(default=False)
    # LLM judges only.
    raw_response = models.TextField(blank=True)
    parse_state = models.CharField(max_length=10, choices=ParseState.choices, blank=True)
    tokens_in = models.PositiveIntegerField(null=True, blank=True)
    tokens_out = models.PositiveIntegerField(null=True, blank=True)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    imported_from = models.CharField(max_length=200, blank=True)
    # Set while the rater is excluded (evalhub.crowd): kept and exported, left out of every
    # result and of the item's quota. A database default, so raw inserts need not name it.
    excluded = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(preference__isnull=True) | Q(preference__gte=0, preference__lte=1),
                name="judgment_preference_is_a_probability",
            ),
            models.UniqueConstraint(
                fields=["judge", "item", "order"],
                condition=Q(judge__isnull=False),
                name="judgment_once_per_judge_item_order",
            ),
            models.CheckConstraint(
                condition=Q(rater__isnull=True) | Q(judge__isnull=True),
                name="judgment_by_rater_or_judge",
            ),
        ]
        indexes = [
            models.Index(fields=["item", "judge_group"]),
            # The live monitor counts the last minutes' judgments: a short range scan.
            models.Index(fields=["created_at"], name="judgment_created_idx"),
        ]

    def __str__(self) -> str:
        return f"judgment {self.pk} by {self.judge_group}"


class GoldPrompt(models.Model):
    """A prompt a researcher marked as gold in a study, with the answer raters should give
    on each of its items (a verdict of the study's scale: target / tie / baseline, or
    fail / pass / excellent). Raters are scored on them (evalhub.stats.crowd_flags); their
    judgments still count in results, unlike the built-in attention checks."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="gold_prompts")
    prompt = models.ForeignKey("prompts.Prompt", on_delete=models.CASCADE, related_name="+")
    expected = models.CharField(max_length=20)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "prompt"], name="gold_prompt_once")]

    def __str__(self) -> str:
        return f"gold prompt {self.prompt_id} in study {self.study_id}: {self.expected}"
