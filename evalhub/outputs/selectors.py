from django.db.models import Count, QuerySet

from evalhub.outputs.models import ModelEntry, Output


def models_with_output_counts() -> QuerySet[ModelEntry]:
    return ModelEntry.objects.annotate(output_count=Count("outputs"))


def outputs_of_model(*, model: ModelEntry, prompt_set_id: int) -> QuerySet[Output]:
    return Output.objects.filter(model=model, prompt__prompt_set_id=prompt_set_id)
