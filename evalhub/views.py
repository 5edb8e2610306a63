from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from evalhub.studies.models import Study


@login_required
def home(request: HttpRequest) -> HttpResponse:
    studies = Study.objects.select_related("prompt_set", "target_model").order_by("-created_at")
    return render(request, "evalhub/home.html", {"studies": studies})
