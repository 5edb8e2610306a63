"""Background work of the dashboards: refitting Dawid-Skene off the request path."""

from celery import shared_task

from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.dashboards.selectors.reliability import REFIT_TASK, reliability_fit_compute
from evalhub.queues import CeleryQueue
from evalhub.studies.models import Study


@shared_task(name=REFIT_TASK, queue=CeleryQueue.DEFAULT.value, acks_late=True)
def dawid_skene_refit(study_id: int) -> None:
    """Fit Dawid-Skene to the study's current data, then make its pages fresh."""
    study = Study.objects.filter(pk=study_id).first()
    if study is None:
        return
    reliability_fit_compute(study)
    study_stats_invalidate(study.pk)
