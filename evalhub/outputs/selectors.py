from django.db.models import Count, QuerySet

from evalhub.outputs.models import ModelEntry, Output
from evalhub.teams.models import Team
from evalhub.teams.scope import TeamScope


def team_models(*, team: Team) -> QuerySet[ModelEntry]:
    """The models of `team`: every page, list, form and API lookup of models starts here, so
    another team's model is simply not found (a 404, never a 403)."""
    return ModelEntry.objects.filter(team=team)


# The gates resolve a model page's `slug` within the caller's team before the role check.
MODEL_SCOPE = TeamScope(team_models, "model")


def models_with_output_counts(*, team: Team) -> QuerySet[ModelEntry]:
    return team_models(team=team).annotate(output_count=Count("outputs"))


def outputs_of_model(*, model: ModelEntry, prompt_set_id: int) -> QuerySet[Output]:
    return Output.objects.filter(model=model, prompt__prompt_set_id=prompt_set_id)
