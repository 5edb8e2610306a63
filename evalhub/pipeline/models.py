from django.conf import settings
from django.db import models


class Pipeline(models.Model):
    """One run of the whole LIMA method: fine-tune, pick a checkpoint, generate the test
    outputs, launch the pairwise and Fail/Pass/Excellent studies, run the LLM judge.

    `step` is where the state machine stands; `job` is the pipeline's own job, whose
    progress counts finished steps. What each step queued is in `steps` (PipelineStep)."""

    class Step(models.TextChoices):
        TRAIN = "train", "Fine-tune with the recipe"
        SELECT = "select", "Pick the checkpoint"
        GENERATE = "generate", "Generate the test outputs"
        STUDIES = "studies", "Create and launch the studies"
        JUDGE = "judge", "Run the LLM judge"
        DONE = "done", "Done"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    team = models.ForeignKey(
        "teams.Team", null=True, on_delete=models.PROTECT, related_name="pipelines"
    )
    slug = models.SlugField(max_length=80)
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    step = models.CharField(max_length=20, choices=Step.choices, default=Step.TRAIN)
    # Inputs, frozen at start: slugs of the dataset, prompt sets, baselines and judges, the
    # recipe and its overrides, generation overrides, and whether to simulate a demo crowd.
    params = models.JSONField(default=dict)
    job = models.OneToOneField(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="pipeline"
    )
    run = models.ForeignKey(
        "training.TrainingRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pairwise_study = models.ForeignKey(
        "studies.Study", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    absolute_study = models.ForeignKey(
        "studies.Study", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    last_redispatch_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "slug"], nulls_distinct=False, name="pipeline_slug_in_team"
            )
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_finished(self) -> bool:
        return self.status != self.Status.RUNNING


class PipelineStep(models.Model):
    """A job one step of a pipeline queued (a step may queue several: one generation job
    per model, one judge run per study)."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(max_length=20, choices=Pipeline.Step.choices)
    job = models.ForeignKey("jobs.Job", on_delete=models.CASCADE, related_name="pipeline_steps")
    retries = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pipeline", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "job"], name="pipeline_step_job_once")
        ]

    def __str__(self) -> str:
        return f"{self.pipeline.slug}:{self.step}:job {self.job_id}"
