"""The workspace's instruments page: every instrument (presets first) and a form to make a
custom one. Thin: the form's data goes to instrument_create."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from evalhub.instruments.definitions import DefinitionError
from evalhub.instruments.forms import InstrumentForm
from evalhub.instruments.selectors import instrument_list
from evalhub.instruments.services import instrument_create
from evalhub.jobs.views import researcher_required


@researcher_required
@require_http_methods(["GET", "POST"])
def instrument_index(request: HttpRequest) -> HttpResponse:
    form = InstrumentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            instrument = instrument_create(
                team=request.team,
                slug=form.cleaned_data["slug"],
                data=form.definition_data(),
                by=request.user,
            )
        except DefinitionError as exc:
            for field, message in exc.errors.items():
                name = field.split("[", 1)[0].split(".", 1)[0]
                shown = message if name == field else f"{field}: {message}"
                form.add_error(name if name in form.fields else None, shown)
        else:
            return HttpResponseRedirect(reverse("instruments:index") + f"#{instrument.slug}")
    context = {"instruments": instrument_list(team=request.team), "form": form}
    return render(request, "instruments/index.html", context)
