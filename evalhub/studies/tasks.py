"""Periodic study upkeep (see evalhub.schedule)."""

import logging

from celery import shared_task

from evalhub.studies.services import assignments_expire

log = logging.getLogger(__name__)


@shared_task(name="studies.assignments_expire")
def assignments_expire_task() -> int:
    """Give overdue reservations of every study back to the pool; returns how many. Web
    processes also sweep now and then while raters reserve, so this only matters when
    nobody is rating."""
    expired = assignments_expire()
    if expired:
        log.info("%s expired reservations went back to the pool", expired)
    return expired
