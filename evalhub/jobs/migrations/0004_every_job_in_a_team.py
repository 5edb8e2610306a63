"""Every job gets a team: teamless jobs (shared fits, generation of models no team owned)
were seen by every team. Each goes to the team of what it serves (its study, run, pipeline,
prompt set or model), else to the team of whoever asked (their first team), else to the
default team "lab" (made if missing). No job is deleted."""

from django.db import migrations

DEFAULT_TEAM = "lab"


def _team_of(apps, job):
    """The team id of what `job` serves, or None."""
    Study = apps.get_model("studies", "Study")
    PromptSet = apps.get_model("prompts", "PromptSet")
    ModelEntry = apps.get_model("outputs", "ModelEntry")
    TrainingRun = apps.get_model("training", "TrainingRun")
    Pipeline = apps.get_model("pipeline", "Pipeline")
    SharedFit = apps.get_model("fits", "SharedFit")
    params = job.params or {}

    def first(qs):
        return qs.exclude(team=None).values_list("team_id", flat=True).first()

    if job.kind == "judge" and params.get("study_id"):
        return first(Study.objects.filter(pk=params["study_id"]))
    if job.kind in ("release",) and params.get("study"):
        return first(Study.objects.filter(slug=params["study"]))
    if job.kind == "training" and params.get("run_id"):
        return first(TrainingRun.objects.filter(pk=params["run_id"]))
    if job.kind == "pipeline" and params.get("pipeline"):
        return first(Pipeline.objects.filter(slug=params["pipeline"]))
    if job.kind == "generation":
        return first(PromptSet.objects.filter(slug=params.get("prompt_set", ""))) or first(
            ModelEntry.objects.filter(slug=params.get("model", ""))
        )
    if job.kind == "fit" and params.get("fit_id"):
        fit = SharedFit.objects.filter(pk=params["fit_id"]).first()
        inputs = (fit.inputs if fit else None) or {}
        if inputs.get("study"):
            return first(Study.objects.filter(pk=inputs["study"]))
    return None


def every_job_in_a_team(apps, schema_editor):
    Job = apps.get_model("jobs", "Job")
    Team = apps.get_model("teams", "Team")
    Membership = apps.get_model("teams", "Membership")
    default = None
    for job in Job.objects.filter(team=None).order_by("pk").iterator():
        team_id = _team_of(apps, job)
        if team_id is None and job.requested_by_id is not None:
            team_id = (
                Membership.objects.filter(user_id=job.requested_by_id)
                .order_by("team__name")
                .values_list("team_id", flat=True)
                .first()
            )
        if team_id is None:
            if default is None:
                default = Team.objects.get_or_create(slug=DEFAULT_TEAM, defaults={"name": "Lab"})[0]
            team_id = default.pk
        Job.objects.filter(pk=job.pk).update(team_id=team_id)


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0003_team_owner"),
        ("teams", "0002_existing_data_into_one_team"),
        ("studies", "0004_study_belongs_to_a_team"),
        ("prompts", "0002_team_owner"),
        ("outputs", "0002_team_owner"),
        ("training", "0003_team_owner"),
        ("pipeline", "0002_team_owner"),
        ("fits", "0001_shared_fits"),
    ]
    operations = [
        migrations.RunPython(every_job_in_a_team, migrations.RunPython.noop),
    ]
