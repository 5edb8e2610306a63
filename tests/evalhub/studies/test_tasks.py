from datetime import timedelta

import pytest
from django.utils import timezone

from evalhub.schedule import BEAT_SCHEDULE
from evalhub.studies.models import Assignment, Rater
from evalhub.studies.pool import assignment_reserve
from evalhub.studies.tasks import assignments_expire_task
from tests.evalhub.rating.fixtures import make_study_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def test_beat_expires_overdue_reservations_of_every_study(make_study):
    studies = [make_study(prompts=1, raters_per_item=1) for _ in range(2)]
    rater = Rater.objects.create(group=Rater.Group.CROWD, external_id_hash="e" * 64)
    held = [assignment_reserve(study=s, rater=rater) for s in studies]
    Assignment.objects.filter(pk=held[0].pk).update(expires_at=timezone.now() - timedelta(1))
    assert assignments_expire_task() == 1
    statuses = [Assignment.objects.get(pk=a.pk).status for a in held]
    assert statuses == [Assignment.Status.EXPIRED, Assignment.Status.RESERVED]
    entry = BEAT_SCHEDULE["studies-assignments-expire"]
    assert entry["task"] == assignments_expire_task.name
