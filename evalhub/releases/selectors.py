"""Reads for releases."""

from __future__ import annotations

from django.db.models import QuerySet

from evalhub.releases import files
from evalhub.releases.models import Release
from evalhub.studies.models import Study


def releases_of_study(*, study: Study) -> QuerySet[Release]:
    """Every version of the study's release, newest first."""
    return Release.objects.filter(study=study).select_related("job").order_by("-version")


def release_unchanged(*, release: Release) -> bool:
    """Whether every file of a ready release still matches its checksums."""
    return release.status == Release.Status.READY and not files.checksums_verify(release.path)
