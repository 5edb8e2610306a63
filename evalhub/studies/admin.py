from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from evalhub.importing import InputError
from evalhub.studies.models import Assignment, Item, Judge, Judgment, Rater, Study
from evalhub.studies.services import StudyStateError, study_close, study_launch, study_reopen


def _transition(service, verb: str):
    """An admin action over the study services (the admin's confirmation page comes with
    Django's action form)."""

    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        for study in queryset:
            try:
                service(study=study, by=request.user)
            except (StudyStateError, InputError) as exc:
                modeladmin.message_user(request, f"{study.slug}: {exc}", messages.ERROR)
            else:
                modeladmin.message_user(request, f"{study.slug}: {verb}", messages.SUCCESS)

    action.__name__ = f"study_{verb}"
    return admin.action(description=f"{verb.capitalize()} the selected studies")(action)


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "kind", "status", "target_model", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["slug", "name"]
    filter_horizontal = ["baselines", "judges"]
    readonly_fields = ["config", "config_hash", "launched_at", "closed_at"]
    actions = [
        _transition(study_launch, "launched"),
        _transition(study_close, "closed"),
        _transition(study_reopen, "reopened"),
    ]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["id", "study", "prompt", "is_gold", "judgment_count"]
    list_filter = ["study", "is_gold"]
    raw_id_fields = ["prompt", "target_output", "baseline_output"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["id", "item", "rater", "target_side", "status", "expires_at"]
    list_filter = ["status"]
    raw_id_fields = ["item", "rater"]


@admin.register(Judgment)
class JudgmentAdmin(admin.ModelAdmin):
    list_display = ["id", "item", "judge_group", "order", "verdict", "score", "created_at"]
    list_filter = ["judge_group", "verdict", "is_attention_check"]
    raw_id_fields = ["item", "assignment", "rater", "judge"]


@admin.register(Rater)
class RaterAdmin(admin.ModelAdmin):
    list_display = ["id", "group", "user", "created_at"]
    list_filter = ["group"]


@admin.register(Judge)
class JudgeAdmin(admin.ModelAdmin):
    list_display = ["slug", "model", "base_url", "template", "verdict_mode", "version_hash"]
