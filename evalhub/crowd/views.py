"""The raters page of a study: the crowd-quality table, exclusion, Prolific approvals.
Thin views over evalhub.crowd.selectors and services."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from evalhub.accounts.decorators import researcher_required
from evalhub.crowd.models import RaterExclusion
from evalhub.crowd.prolific import ProlificLists, prolific_match
from evalhub.crowd.quality_views import gold_rows
from evalhub.crowd.selectors import (
    SORTABLE,
    FlagsUpdating,
    flagged_rater_ids,
    raters_table,
    rows_sorted,
)
from evalhub.crowd.services import (
    CrowdInputError,
    CrowdStateError,
    raters_exclude,
    raters_include,
)
from evalhub.studies.models import Study
from evalhub.studies.selectors import STUDY_SCOPE, team_studies

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
SHOWN_ROWS = 500  # a page of thousands of rows is unreadable: sort or filter to find others
# (key, heading, format): "int", "ms", "share", "float" or "text".
COLUMNS = [
    ("rater", "Rater", "int"), ("status", "Status", "text"), ("judgments", "Judgments", "int"),
    ("time_median_ms", "Median time", "ms"), ("time_p10_ms", "10th pct time", "ms"),
    ("too_fast_share", "Too fast", "share"), ("checks_passed", "Checks passed", "int"),
    ("checks_failed", "Checks failed", "int"), ("agreement", "Agreement", "share"),
    ("tie_discounted_agreement", "Agreement (tie-discounted)", "share"),
    ("left_share", "Left", "share"), ("longest_run", "Longest run", "int"),
    ("comments", "Comments", "int"), ("reliability", "Reliability (D-S)", "share"),
]  # fmt: skip


def _shown(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if fmt == "ms":
        return f"{value / 1000:.1f} s"
    if fmt == "share":
        return f"{100 * value:.0f}%"
    return str(value)


def _page(
    request: HttpRequest, study: Study, *, prolific: ProlificLists | None = None,
    error: str = "", status: int = 200,
) -> HttpResponse:  # fmt: skip
    table = raters_table(study)
    sort = request.GET.get("sort", "rater")
    if sort.lstrip("-") not in SORTABLE:
        sort = "rater"
    show = request.GET.get("show", "all")
    rows = rows_sorted(
        table["raters"], sort=sort, flagged=True if show == "flagged" else None,
        excluded=True if show == "excluded" else None,
    )  # fmt: skip
    base = reverse("crowd:raters", args=[study.slug])
    headings = []
    for key, label, _ in COLUMNS:
        ascending = sort == key
        descending = sort == f"-{key}"
        flip = f"-{key}" if ascending else key
        headings.append({
            "label": label, "key": key,
            "href": f"{base}?{urlencode({'sort': flip, 'show': show})}",
            "aria_sort": "ascending" if ascending else "descending" if descending else "none",
        })  # fmt: skip
    for key in table["llm_groups"]:
        headings.append({"label": f"Agrees with {key}", "key": "", "href": "", "aria_sort": ""})
    # A rater's judgments count opens them (every one of theirs, as the column counts).
    judgments_url = reverse("workspace:study_judgments", args=[study.slug])
    shown_rows = [
        {
            "rater": row["rater"], "excluded": row["excluded"], "flags": row["flags"],
            "evidence": row.get("evidence", {}),
            "cells": [_shown(row[key], fmt) for key, _, fmt in COLUMNS]
            + [_shown(row["llm_agreement"].get(g), "share") for g in table["llm_groups"]],
            "judgments_href": f"{judgments_url}?rater_id={row['rater']}",
        }
        for row in rows[:SHOWN_ROWS]
    ]  # fmt: skip
    downloads = None
    if prolific is not None:
        downloads = [
            (which, f"{study.slug}-prolific-{which}.csv",
             "data:text/csv;charset=utf-8," + quote(prolific.csv(which)), count)
            for which, count in (("approve", len(prolific.approve)),
                                 ("reject", len(prolific.reject)), ("bonus", len(prolific.bonus)))
        ]  # fmt: skip
    context = {
        "study": study, "table": table, "headings": headings, "rows": shown_rows, "sort": sort,
        "n_rows": len(rows), "n_hidden": max(0, len(rows) - SHOWN_ROWS),
        "show": show, "n_flagged": sum(r["flagged"] for r in table["raters"]),
        "history": RaterExclusion.objects.filter(study=study).select_related("by")[:20],
        "prolific": prolific, "downloads": downloads, "error": error, "gold": gold_rows(study),
        "rules_now": study.quality_rules or {},
        "judgments_column": [key for key, _, _ in COLUMNS].index("judgments"),
    }  # fmt: skip
    return render(request, "crowd/raters.html", context, status=status)


@require_GET
@researcher_required(scope=STUDY_SCOPE)
def raters_page(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, get_object_or_404(team_studies(team=request.team), slug=slug))


@require_POST
@researcher_required(scope=STUDY_SCOPE)
def raters_action(request: HttpRequest, slug: str) -> HttpResponse:
    """Exclude (the ticked raters, or every flagged one) or include again, with a reason."""
    study = get_object_or_404(team_studies(team=request.team), slug=slug)
    action = request.POST.get("action", "exclude")
    try:
        ids = [int(v) for v in request.POST.getlist("rater")]
    except ValueError:
        return _page(request, study, error="raters: not rater numbers", status=400)
    if action == "exclude-flagged":
        try:
            ids = flagged_rater_ids(study)
        except FlagsUpdating as exc:
            return _page(request, study, error=str(exc), status=409)
    act = raters_include if action == "include" else raters_exclude
    try:
        outcome = act(study=study, rater_ids=ids, reason=request.POST.get("reason", ""),
                      by=request.user)  # fmt: skip
    except CrowdInputError as exc:
        return _page(request, study, error=str(exc), status=400)
    except CrowdStateError as exc:
        return _page(request, study, error=str(exc), status=409)
    verb = "included again" if act is raters_include else "excluded"
    messages.success(
        request, f"{len(outcome.raters)} raters {verb} ({outcome.judgments} judgments)."
    )
    return redirect(reverse("crowd:raters", args=[study.slug]))


@require_POST
@researcher_required(scope=STUDY_SCOPE)
def prolific_upload(request: HttpRequest, slug: str) -> HttpResponse:
    """Match an uploaded Prolific export; the page answers the three lists as downloads
    (built into the page: the raw ids are never stored)."""
    study = get_object_or_404(team_studies(team=request.team), slug=slug)
    upload = request.FILES.get("export")
    if upload is None:
        return _page(request, study, error="export: choose Prolific's CSV file", status=400)
    if upload.size > MAX_UPLOAD_BYTES:
        return _page(request, study, error="export: the file is over 20 MB", status=400)
    try:
        text = upload.read().decode("utf-8")
    except UnicodeDecodeError:
        return _page(request, study, error="export: not UTF-8 text", status=400)
    try:
        lists = prolific_match(study=study, text=text)
    except (CrowdInputError, CrowdStateError) as exc:
        return _page(request, study, error=str(exc), status=400)
    return _page(request, study, prolific=lists)
