"""Reads for the workspace pages: the live monitor, the study page, the rater preview."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import Least
from django.urls import reverse
from django.utils import timezone

from evalhub.rating.models import RaterSession
from evalhub.studies.models import Assignment, Item, Judgment, Study
from evalhub.teams.models import Team

RATE_WINDOW = timedelta(minutes=5)
PROLIFIC_PARAMS = {
    "PROLIFIC_PID": "{{%PROLIFIC_PID%}}",
    "STUDY_ID": "{{%STUDY_ID%}}",
    "SESSION_ID": "{{%SESSION_ID%}}",
}


def study_monitor(*, study: Study, now: Any = None) -> dict[str, Any]:
    """The live monitor of a study, in five indexed queries whatever its size: raters
    holding a live reservation, human judgments in the last five minutes (per minute),
    items at quota, judgments done and needed, the time left at the current rate
    (seconds; None without a rate), screen-outs and attention-check failures."""
    now = now or timezone.now()
    k = study.raters_per_item
    items = Item.objects.filter(study=study, is_gold=False).aggregate(
        total=Count("id"),
        at_quota=Count("id", filter=Q(judgment_count__gte=k)),
        done=Sum(Least("judgment_count", k)),
    )
    recent = (
        Judgment.objects.filter(created_at__gte=now - RATE_WINDOW, item__study=study)
        .exclude(judge_group__startswith="llm:")
        .count()
    )
    active = Assignment.objects.filter(
        item__study=study, status=Assignment.Status.RESERVED, expires_at__gt=now
    ).aggregate(n=Count("rater_id", distinct=True))["n"]
    sessions = RaterSession.objects.filter(study=study).aggregate(
        screened_out=Count("id", filter=Q(status=RaterSession.Status.SCREENED_OUT)),
        attention_failures=Sum("attention_failures"),
        sessions=Count("id"),
    )
    per_minute = recent / (RATE_WINDOW.total_seconds() / 60)
    needed = (items["total"] or 0) * k
    done = items["done"] or 0
    left = max(needed - done, 0)
    return {
        "status": study.status,
        "active_raters": active,
        "judgments_per_minute": round(per_minute, 2),
        "items": items["total"] or 0,
        "items_at_quota": items["at_quota"] or 0,
        "judgments_done": done,
        "judgments_needed": needed,
        "seconds_left": round(60 * left / per_minute) if per_minute and left else None,
        "sessions": sessions["sessions"],
        "screened_out": sessions["screened_out"],
        "attention_failures": sessions["attention_failures"] or 0,
        "at": now.isoformat(),
    }


def judge_runs_of_study(*, study: Study, limit: int = 10) -> list[Any]:
    """The study's latest LLM judge runs (jobs), newest first."""
    from evalhub.jobs.models import Job

    runs = Job.objects.filter(kind=Job.Kind.JUDGE, params__study_id=study.pk)
    return list(runs.order_by("-id")[:limit])


MONITOR_CACHE_SECONDS = 2


def study_monitor_cached(*, study: Study) -> dict[str, Any]:
    """study_monitor, computed at most once per MONITOR_CACHE_SECONDS per study however
    many researcher tabs poll it (the page polls every 3 s)."""
    from django.core.cache import cache

    from evalhub.cache_redis import REDIS_ERRORS, redis_unavailable

    key = f"workspace:monitor:{study.pk}"
    try:
        found = cache.get(key)
        if found is None:
            found = study_monitor(study=study)
            cache.set(key, found, MONITOR_CACHE_SECONDS)
    except REDIS_ERRORS as exc:  # Redis down: every poll computes, none fails
        redis_unavailable("workspace monitor cache", exc)
        found = study_monitor(study=study)
    return found


def prolific_urls(*, study: Study, base_url: str) -> dict[str, str]:
    """The study URL to give Prolific (with its {{%...%}} placeholders) and the completion
    URL to paste into Prolific; `base_url` is this site's scheme and host."""
    query = "&".join(f"{k}={v}" for k, v in PROLIFIC_PARAMS.items())
    route = "live:entry" if hasattr(study, "live") else "rating:entry"
    # The link names the study by its crowd code: nothing of the team or its slugs.
    entry = f"{base_url}{reverse(route, args=[study.crowd_code])}?{query}"
    completion = (
        f"{settings.PROLIFIC_COMPLETION_URL}?{urlencode({'cc': study.completion_code})}"
        if study.completion_code
        else ""
    )
    return {"study_url": entry, "completion_url": completion}


def live_staff_url(*, study: Study, base_url: str) -> str:
    """Where staff open a staff live study (logged in), or "" for any other study."""
    from evalhub.live.models import LiveStudy

    live = getattr(study, "live", None)
    if live is None or live.participants != LiveStudy.Participants.STAFF:
        return ""
    return f"{base_url}{reverse('live:staff_entry', args=[study.crowd_code])}"


PROMPT_FIELDS = {"prompt_id", "external_id", "instruction", "prompt"}


def upload_preview(*, team: Team, path: Any, params: dict[str, Any]) -> dict[str, Any]:
    """What importing an uploaded file would do, found by the importers' own checks
    without writing: its format, row count, the models it names (rows each), the rows
    whose prompt matches no prompt of the set, and every problem (row, field, message)."""
    from evalhub.importing import InputError, read_file_rows
    from evalhub.outputs.models import ModelEntry
    from evalhub.outputs.selectors import team_models
    from evalhub.outputs.services import outputs_import_plan
    from evalhub.prompts.selectors import team_prompt_sets
    from evalhub.prompts.services import prompts_import_plan

    preview: dict[str, Any] = {"what": params["what"], "prompt_set": params["prompt_set"],
                               "format": "", "rows": 0, "models": {}, "unmatched": [],
                               "problems": [], "new_set": False, "unreadable": False,
                               "row_label": "Line"}  # fmt: skip
    try:
        syntax, rows = read_file_rows(path, params.get("filename", ""))
    except InputError as exc:  # not JSON / CSV at all: only the error, numbered by line
        preview["problems"] = [_problem(p) for p in exc.problems]
        preview["unreadable"] = True
        return preview
    # JSON Lines and CSV rows are numbered by their line; a JSON array's by its element.
    preview["row_label"] = "Element" if syntax == "json" else "Line"
    preview["rows"] = len(rows)
    if params["what"] == "arena":
        from evalhub.studies.arena_import import arena_import_preview

        return {**preview, **arena_import_preview(team=team, rows=rows)}
    first = rows[0][1]
    if params["what"] == "prompts":
        preview["format"] = (
            "CSV" if syntax == "csv"
            else "LIMA JSONL" if "conversations" in first
            else "{id, text, category} " + syntax.upper()
        )  # fmt: skip
        sets = team_prompt_sets(team=team)
        preview["new_set"] = not sets.filter(slug=params["prompt_set"]).exists()
        _, problems = prompts_import_plan(team=team, slug=params["prompt_set"], rows=rows)
        preview["problems"] = [_problem(p) for p in problems]
        return preview
    preview["format"] = (
        "CSV" if syntax == "csv"
        else "AlpacaEval JSON" if syntax == "json" and "instruction" in first
        else "EvalHub " + syntax.upper()
    )  # fmt: skip
    prompt_set = team_prompt_sets(team=team).filter(slug=params["prompt_set"]).first()
    if prompt_set is None:
        message = f"no prompt set {params['prompt_set']!r}; upload the prompts first"
        preview["problems"] = [{"row": 0, "field": "prompt_set", "message": message}]
        return preview
    model = None
    if params.get("model"):
        model = team_models(team=team).filter(slug=params["model"]).first() or ModelEntry(
            team=team, slug=params["model"], name=params["model"]
        )
    plan = outputs_import_plan(prompt_set=prompt_set, rows=rows, model=model)
    preview["models"] = dict(sorted(plan.models_named.items()))
    preview["problems"] = [_problem(p) for p in plan.problems]
    preview["unmatched"] = [p for p in preview["problems"] if p["field"] in PROMPT_FIELDS]
    preview["new_models"] = sorted(plan.new_models)
    preview["to_create"] = len(plan.to_create)
    preview["unchanged"] = plan.unchanged
    return preview


def _problem(problem: Any) -> dict[str, Any]:
    return {"row": problem.row, "field": problem.field, "message": problem.message}
