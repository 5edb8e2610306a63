from django.db.models import Count, QuerySet

from evalhub.prompts.models import Prompt, PromptSet
from evalhub.teams.models import Team


def team_prompt_sets(*, team: Team) -> QuerySet[PromptSet]:
    """The prompt sets of `team`: every page, list, form and API lookup of prompt sets starts
    here, so another team's set is simply not found (a 404, never a 403)."""
    return PromptSet.objects.filter(team=team)


def prompt_sets_with_counts(*, team: Team) -> QuerySet[PromptSet]:
    return team_prompt_sets(team=team).annotate(prompt_count=Count("prompts"))


def prompts_of_set(*, prompt_set: PromptSet) -> QuerySet[Prompt]:
    return prompt_set.prompts.order_by("position", "id")
