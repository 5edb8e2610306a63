"""Changing and removing what researchers made: draft studies, prompt sets, models and
their outputs, and the few settings of a running study that may change.

The rules: a draft study may change in every setting, or go. Once launched, its frozen
config (and its hash) never changes; only the Prolific codes and the quality rules may,
and every edit here is recorded (evalhub.audit: who, when, before and after). Nothing that a
launched study's items or judgments stand on may be deleted: the refusal (DeletionRefused)
names what depends on it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Q

from evalhub.audit.services import changed_fields, edit_record
from evalhub.importing import InputError, RowProblem
from evalhub.outputs.models import ModelEntry, Output
from evalhub.prompts.models import PromptSet
from evalhub.studies.models import Judgment, Study
from evalhub.studies.quality_rules import RULES, quality_rule_checked
from evalhub.studies.services import StudyStateError
from evalhub.teams.models import AuditEvent

# The settings a running study may change (Study fields).
RUNNING_SETTINGS = ("completion_code", "screenout_code", "quality_rules")
DRAFT_SETTINGS = ("name", "kind", "prompt_set", "target_model", "instrument", "raters_per_item",
                  "attention_check_rate", "session_quota", "reservation_seconds",
                  "completion_code", "screenout_code")  # fmt: skip


class DeletionRefused(ValueError):
    """Deleting this would take away what results depend on; the message says what."""


def _locked(study: Study) -> Study:
    return Study.objects.select_for_update(of=("self",)).get(pk=study.pk)


def _names(studies: Any) -> str:
    slugs = sorted({s.slug for s in studies})
    return ", ".join(slugs[:10]) + (f" and {len(slugs) - 10} more" if len(slugs) > 10 else "")


# --- studies -----------------------------------------------------------------------------


@transaction.atomic
def study_edit_draft(
    *, study: Study, by: AbstractBaseUser | None, baselines: list[ModelEntry], **fields: Any
) -> Study:
    """Change a draft's settings (DRAFT_SETTINGS) and baselines; StudyStateError once it
    has launched (its config is frozen)."""
    study = _locked(study)
    if study.status != Study.Status.DRAFT:
        raise StudyStateError(
            f"study {study.slug} is {study.status}: its configuration is frozen; only the "
            "Prolific codes and quality rules may change"
        )
    unknown = set(fields) - set(DRAFT_SETTINGS)
    if unknown:
        raise InputError([RowProblem(0, "cannot be changed here", sorted(unknown)[0])])
    old = {name: getattr(study, name) for name in fields}
    old["baselines"] = sorted(study.baselines.values_list("slug", flat=True))
    before, after = changed_fields(old, {**fields, "baselines": sorted(b.slug for b in baselines)})
    for name in fields:
        setattr(study, name, fields[name])
    if "baselines" in after:
        study.baselines.set(baselines)
    study.save()
    if after:
        edit_record(obj=study, actor=by, action=AuditEvent.Action.EDIT, before=before,
                    after=after)  # fmt: skip
    return study


@transaction.atomic
def study_delete_draft(*, study: Study, by: AbstractBaseUser | None) -> None:
    """Delete a draft study (recorded); DeletionRefused once it has launched (results
    depend on it)."""
    study = _locked(study)
    if study.status != Study.Status.DRAFT:
        n = Judgment.objects.filter(item__study=study).count()
        raise DeletionRefused(
            f"study {study.slug} is {study.status}: its items and {n} judgment"
            f"{'s' if n != 1 else ''} are results; close it instead"
        )
    # One event in the team's log: the deletion, with what the study was.
    edit_record(obj=study, actor=by, action=AuditEvent.Action.DELETE,
                before={"name": study.name, "status": study.status})  # fmt: skip
    study.delete()


def quality_rules_checked(rules: Any) -> dict[str, Any]:
    """The quality rules, known keys only, each in its range (studies.quality_rules, the
    check the raters page and the API use); InputError names the bad key."""
    if not isinstance(rules, dict):
        raise InputError([RowProblem(0, "must be an object of rule: number", "quality_rules")])
    problems = []
    checked: dict[str, Any] = {}
    for key, value in rules.items():
        if key not in RULES:
            known = ", ".join(RULES)
            problems.append(RowProblem(0, f"unknown rule {key!r} (known: {known})", key))
            continue
        try:
            checked[key] = quality_rule_checked(key, value)
        except ValueError as exc:
            problems.append(RowProblem(0, f"{key} must be {exc}", key))
    if problems:
        raise InputError(problems)
    return checked


@transaction.atomic
def study_running_settings_update(
    *, study: Study, by: AbstractBaseUser | None, **fields: Any
) -> AuditEvent | None:
    """Change the Prolific codes or the quality rules, whatever the study's state, and
    record the edit (None when nothing changed). The frozen config and its hash stay as
    they were at launch."""
    study = _locked(study)
    unknown = set(fields) - set(RUNNING_SETTINGS)
    if unknown:
        field = sorted(unknown)[0]
        raise InputError([RowProblem(0, "is frozen once the study has launched", field)])
    if "quality_rules" in fields:
        fields["quality_rules"] = quality_rules_checked(fields["quality_rules"])
    before, after = changed_fields({name: getattr(study, name) for name in fields}, fields)
    if not after:
        return None
    for name, value in after.items():
        setattr(study, name, value)
    study.save(update_fields=list(after))
    edit = edit_record(obj=study, actor=by, action=AuditEvent.Action.SETTINGS_CHANGE,
                       before=before, after=after)  # fmt: skip
    if "quality_rules" in after:  # the raters page and results read the rules
        from evalhub.dashboards.cache import study_stats_invalidate

        transaction.on_commit(lambda: study_stats_invalidate(study.pk))
    return edit


# --- prompt sets and models --------------------------------------------------------------


def _studies_using_prompt_set(prompt_set: PromptSet) -> Any:
    return Study.objects.filter(prompt_set=prompt_set).only("slug", "status")


def _studies_using_model(model: ModelEntry) -> Any:
    return (
        Study.objects.filter(Q(target_model=model) | Q(baselines=model))
        .distinct()
        .only("slug", "status")
    )


def _refuse_if_used(what: str, studies: Any, verb: str) -> None:
    launched = [s for s in studies if s.status != Study.Status.DRAFT]
    if launched:
        raise DeletionRefused(
            f"{what} cannot be {verb}: launched studies use it ({_names(launched)}), "
            "and their items and judgments are results"
        )
    drafts = list(studies)
    if drafts and verb == "deleted":
        raise DeletionRefused(
            f"{what} cannot be deleted: draft studies use it ({_names(drafts)}); "
            "delete or change those first"
        )


def _rename(obj: Any, *, by: AbstractBaseUser | None, name: str, slug: str | None) -> Any:
    before, after = changed_fields(
        {"name": obj.name, "slug": obj.slug}, {"name": name, "slug": slug or obj.slug}
    )
    if not after:
        return obj
    obj.name, obj.slug = name, slug or obj.slug
    obj.save(update_fields=["name", "slug"])
    edit_record(obj=obj, actor=by, action=AuditEvent.Action.RENAME, before=before, after=after)
    return obj


@transaction.atomic
def prompt_set_rename(
    *, prompt_set: PromptSet, by: AbstractBaseUser | None, name: str, slug: str | None = None
) -> PromptSet:
    """A new name (and slug) for a prompt set no launched study uses (recorded)."""
    _refuse_if_used(
        f"prompt set {prompt_set.slug}", _studies_using_prompt_set(prompt_set), "renamed"
    )
    if (
        slug
        and slug != prompt_set.slug
        and PromptSet.objects.filter(team_id=prompt_set.team_id, slug=slug).exists()
    ):
        raise InputError([RowProblem(0, f"a prompt set {slug} already exists", "slug")])
    return _rename(prompt_set, by=by, name=name, slug=slug)


@transaction.atomic
def prompt_set_delete(*, prompt_set: PromptSet, by: AbstractBaseUser | None) -> None:
    """Delete a prompt set, its prompts and their outputs, when no study uses it (recorded,
    with how many prompts went)."""
    _refuse_if_used(
        f"prompt set {prompt_set.slug}", _studies_using_prompt_set(prompt_set), "deleted"
    )
    before = {"name": prompt_set.name, "prompts": prompt_set.prompts.count()}
    edit_record(obj=prompt_set, actor=by, action=AuditEvent.Action.DELETE, before=before)
    prompt_set.delete()


@transaction.atomic
def model_rename(
    *, model: ModelEntry, by: AbstractBaseUser | None, name: str, slug: str | None = None
) -> ModelEntry:
    """A new name (and slug) for a model no launched study uses (recorded)."""
    _refuse_if_used(f"model {model.slug}", _studies_using_model(model), "renamed")
    if (
        slug
        and slug != model.slug
        and ModelEntry.objects.filter(team_id=model.team_id, slug=slug).exists()
    ):
        raise InputError([RowProblem(0, f"a model {slug} already exists", "slug")])
    return _rename(model, by=by, name=name, slug=slug)


@transaction.atomic
def model_delete(*, model: ModelEntry, by: AbstractBaseUser | None) -> None:
    """Delete a model and its outputs, when no study uses it (recorded, with how many
    outputs went)."""
    _refuse_if_used(f"model {model.slug}", _studies_using_model(model), "deleted")
    before = {"name": model.name, "kind": model.kind, "outputs": model.outputs.count()}
    edit_record(obj=model, actor=by, action=AuditEvent.Action.DELETE, before=before)
    model.delete()


@transaction.atomic
def model_outputs_clear(
    *, model: ModelEntry, prompt_set: PromptSet, by: AbstractBaseUser | None
) -> int:
    """Remove a model's outputs for one prompt set, so a corrected file can replace the
    upload (recorded); refused while a launched study shows them. Returns how many went."""
    used = Study.objects.filter(
        Q(items__target_output__model=model) | Q(items__baseline_output__model=model),
        prompt_set=prompt_set,
    ).distinct()
    if used.exists():
        raise DeletionRefused(
            f"the outputs of {model.slug} for {prompt_set.slug} cannot be replaced: launched "
            f"studies show them to raters ({_names(used)})"
        )
    outputs = Output.objects.filter(model=model, prompt__prompt_set=prompt_set)
    deleted = outputs.count()
    outputs.delete()
    if deleted:
        edit_record(obj=model, actor=by, action=AuditEvent.Action.OUTPUTS_REPLACE,
                    before={"prompt_set": prompt_set.slug, "outputs": deleted},
                    after={"prompt_set": prompt_set.slug, "outputs": 0})  # fmt: skip
    return deleted
