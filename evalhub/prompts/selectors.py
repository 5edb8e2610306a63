from django.db.models import Count, QuerySet

from evalhub.prompts.models import Prompt, PromptSet


def prompt_sets_with_counts() -> QuerySet[PromptSet]:
    return PromptSet.objects.annotate(prompt_count=Count("prompts"))


def prompts_of_set(*, prompt_set: PromptSet) -> QuerySet[Prompt]:
    return prompt_set.prompts.order_by("position", "id")
