"""Signals of the studies app."""

from django.dispatch import Signal

# Sent (with study_id) after judgments of a study were written in bulk: bulk_create and
# bulk_update send no post_save, and the dashboards must still drop their cached stats.
judgments_bulk_written = Signal()


def judgments_bulk_written_send(study_id: int) -> None:
    """Announce a bulk write now and again once the surrounding transaction commits."""
    from django.db import transaction

    from evalhub.studies.models import Judgment

    judgments_bulk_written.send(sender=Judgment, study_id=study_id)
    transaction.on_commit(lambda: judgments_bulk_written.send(sender=Judgment, study_id=study_id))
