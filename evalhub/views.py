from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from evalhub.accounts.roles import is_researcher

_FAVICON = Path(__file__).resolve().parent / "static" / "evalhub" / "favicon.svg"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Researchers land on the workspace; raters rate through their study links only."""
    if not is_researcher(request.user):
        raise PermissionDenied("This page is for researchers.")
    return redirect("workspace:studies")


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for on every site (the live ASGI app included, as its
    other paths go to Django): without it each page logs a 404 in the console."""
    return HttpResponse(_FAVICON.read_bytes(), content_type="image/svg+xml")
