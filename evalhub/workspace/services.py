"""Writes of the workspace that belong to no other app: an uploaded file waits on disk
between its preview and its import job (the database is written by the import only)."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from evalhub.jobs.models import Job
from evalhub.jobs.services import job_create
from evalhub.teams.models import Team

TOKEN_CHARS = set("0123456789abcdef")


class UploadGone(LookupError):
    """The upload token names no waiting file (imported already, or never uploaded)."""


def _paths(token: str) -> tuple[Path, Path]:
    if len(token) != 32 or not set(token) <= TOKEN_CHARS:
        raise UploadGone("no such upload")
    root = Path(settings.UPLOAD_DIR)
    return root / f"{token}.data", root / f"{token}.json"


def upload_store(*, file: UploadedFile, params: dict[str, Any]) -> tuple[str, Path]:
    """Keep an uploaded file (streamed to disk, never whole in memory) with its import
    params; returns its token and path."""
    token = uuid.uuid4().hex
    data, meta = _paths(token)
    data.parent.mkdir(parents=True, exist_ok=True)
    with data.open("wb") as out:
        for chunk in file.chunks():
            out.write(chunk)
    meta.write_text(json.dumps({**params, "filename": file.name or ""}))
    return token, data


def upload_params(*, token: str) -> tuple[Path, dict[str, Any]]:
    data, meta = _paths(token)
    if not data.exists() or not meta.exists():
        raise UploadGone("this upload was imported already or has expired; upload it again")
    return data, json.loads(meta.read_text())


def upload_discard(*, token: str) -> None:
    for path in _paths(token):
        path.unlink(missing_ok=True)


def upload_import(*, team: Team, token: str, requested_by: Any = None) -> Job:
    """Start the import job of a previewed upload: the importer services the API and CLI
    use, run by a worker. The file moves out of the waiting area, so a second click
    imports nothing twice."""
    data, params = upload_params(token=token)
    target = data.with_suffix(".importing")
    shutil.move(data, target)
    _paths(token)[1].unlink(missing_ok=True)
    job_params = {**params, "path": str(target), "remove_after": True}
    return job_create(kind=Job.Kind.IMPORT, params=job_params, requested_by=requested_by, team=team)
