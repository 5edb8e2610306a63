from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from evalhub.accounts.roles import is_researcher


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Researchers land on the workspace; raters rate through their study links only."""
    if not is_researcher(request.user):
        raise PermissionDenied("This page is for researchers.")
    return redirect("workspace:studies")
