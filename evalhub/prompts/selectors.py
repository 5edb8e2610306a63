from django.db.models import Count, QuerySet

from evalhub.prompts.models import Prompt, PromptSet
from evalhub.teams.models import Team
from evalhub.teams.scope import TeamScope


def team_prompt_sets(*, team: Team) -> QuerySet[PromptSet]:
    """The prompt sets of `team`: every page, list, form and API lookup of prompt sets starts
    here, so another team's set is simply not found (a 404, never a 403)."""
    return PromptSet.objects.filter(team=team)


# The gates resolve a prompt set page's `slug` within the caller's team before the role check.
PROMPT_SET_SCOPE = TeamScope(team_prompt_sets, "prompt set")


def prompt_sets_with_counts(*, team: Team) -> QuerySet[PromptSet]:
    return team_prompt_sets(team=team).annotate(prompt_count=Count("prompts"))


def prompts_of_set(*, prompt_set: PromptSet) -> QuerySet[Prompt]:
    return prompt_set.prompts.order_by("position", "id")
