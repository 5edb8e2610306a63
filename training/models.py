from django.conf import settings
from django.db import models


class TrainingDataset(models.Model):
    """A set of LIMA-format conversations to fine-tune on (e.g. LIMA's 1,000 + 30).
    `token_stats` holds token lengths per source, measured with `stats_tokenizer`."""

    team = models.ForeignKey(
        "teams.Team", null=True, on_delete=models.PROTECT, related_name="training_datasets"
    )
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    source_file = models.CharField(max_length=500, blank=True)
    stats_tokenizer = models.CharField(max_length=500, blank=True)
    stats_max_length = models.PositiveIntegerField(default=2048)
    token_stats = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "slug"], nulls_distinct=False, name="dataset_slug_in_team"
            )
        ]

    def __str__(self) -> str:
        return self.slug


class TrainingExample(models.Model):
    """One row: utterances alternating user, assistant, user, ... (user first)."""

    dataset = models.ForeignKey(TrainingDataset, on_delete=models.CASCADE, related_name="examples")
    position = models.PositiveIntegerField()
    conversations = models.JSONField()
    source = models.CharField(max_length=100, blank=True, db_index=True)

    class Meta:
        ordering = ["dataset", "position"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "position"], name="example_unique_position")
        ]

    def __str__(self) -> str:
        return f"{self.dataset.slug}#{self.position}"

    @property
    def turns(self) -> int:
        return len(self.conversations)


class Recipe(models.Model):
    """A named fine-tuning recipe (`training.recipes.RecipeSettings` as JSON). The two
    LIMA presets are made by a migration; researchers add custom ones."""

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    settings = models.JSONField(default=dict)
    is_preset = models.BooleanField(default=False)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_preset", "slug"]

    def __str__(self) -> str:
        return self.slug


class TrainingRun(models.Model):
    """One fine-tuning run. The recipe's settings are frozen into `recipe_settings` when the
    run is created, so editing a recipe never changes what a past run did."""

    team = models.ForeignKey(
        "teams.Team", null=True, on_delete=models.PROTECT, related_name="training_runs"
    )
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    dataset = models.ForeignKey(TrainingDataset, on_delete=models.PROTECT, related_name="runs")
    base_model = models.CharField(max_length=500)  # a path or hub name
    recipe = models.ForeignKey(
        Recipe, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    recipe_settings = models.JSONField()
    output_dir = models.CharField(max_length=500)
    job = models.OneToOneField(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="training_run"
    )
    # What the trainer found: EOT id and whether it was added, trimmed/dropped rows, steps.
    facts = models.JSONField(default=dict, blank=True)
    # Checkpoint selection on a dev set (LIMA picked by hand between epochs 5 and 10).
    selection_job = models.OneToOneField(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dev_prompt_set = models.ForeignKey(
        "prompts.PromptSet", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    judge = models.ForeignKey(
        "studies.Judge", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_checkpoint = models.ForeignKey(
        "Checkpoint", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    chosen_checkpoint = models.ForeignKey(
        "Checkpoint", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "slug"], nulls_distinct=False, name="run_slug_in_team"
            )
        ]

    def __str__(self) -> str:
        return self.slug


class TrainingStep(models.Model):
    """The metrics of one optimizer step, for the live curves."""

    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="steps")
    step = models.PositiveIntegerField()  # 1-based
    epoch = models.FloatField()  # fractional epochs done
    loss = models.FloatField()  # mean per trained token
    lr = models.FloatField()
    tokens = models.PositiveIntegerField()
    tokens_per_s = models.FloatField()
    elapsed_s = models.FloatField()
    eta_s = models.FloatField()
    grad_norm = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["run", "step"]
        constraints = [models.UniqueConstraint(fields=["run", "step"], name="step_unique_per_run")]

    def __str__(self) -> str:
        return f"{self.run_id}@step{self.step}"


class Checkpoint(models.Model):
    """A saved epoch of a run, registered as a local model so it can be generated with,
    judged and put in a study. `dev_score` is its selection score on the dev set, on the scale
    `dev_score_detail["scale"]` names: "1-6" (mean Likert score over `dev_score_n` prompts) or
    "pairwise-vs-previous" (chain of log-odds against the previous epoch, the first at 0;
    `dev_score_n` verdicts against the previous epoch)."""

    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="checkpoints")
    epoch = models.PositiveIntegerField()
    step = models.PositiveIntegerField()
    path = models.CharField(max_length=500)
    model = models.OneToOneField(
        "outputs.ModelEntry", on_delete=models.PROTECT, related_name="training_checkpoint"
    )
    dev_score = models.FloatField(null=True, blank=True)
    dev_score_n = models.PositiveIntegerField(default=0)
    dev_score_detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "epoch"]
        constraints = [
            models.UniqueConstraint(fields=["run", "epoch"], name="checkpoint_unique_epoch")
        ]

    def __str__(self) -> str:
        return f"{self.run.slug}@epoch{self.epoch}"

    @property
    def score_scale(self) -> str:
        return (self.dev_score_detail or {}).get("scale", "")
