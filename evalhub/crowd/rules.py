"""Writes of a study's crowd-quality settings: `quality_rules` (the flags' thresholds and
the Prolific bonus rule) and the gold prompts researchers write. One service per write,
shared by the workspace form and the API."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from evalhub.audit.services import edit_record
from evalhub.crowd.services import CrowdInputError
from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.importing import RowProblem
from evalhub.prompts.models import Prompt
from evalhub.studies.models import GoldPrompt, Study
from evalhub.studies.quality_rules import RULES, quality_rule_checked
from evalhub.teams.models import AuditEvent

VERDICTS = {
    Study.Kind.PAIRWISE: ("target", "tie", "baseline"),
    Study.Kind.ABSOLUTE: ("fail", "pass", "excellent"),
}


@transaction.atomic
def study_quality_rules_update(
    *, study: Study, rules: dict[str, Any], by: AbstractBaseUser | None = None
) -> Study:
    """Merge `rules` into the study's quality_rules (a null value removes a rule, back to
    its default) and record the change (evalhub.audit: who, when, before and after).
    CrowdInputError names each bad key; nothing is saved then."""
    problems = []
    merged = dict(study.quality_rules or {})
    for name, value in rules.items():
        if name not in RULES:
            problems.append(RowProblem(0, f"unknown rule; one of {', '.join(RULES)}",
                                       f"quality_rules.{name}"))  # fmt: skip
            continue
        if value is None:
            merged.pop(name, None)
            continue
        try:
            merged[name] = quality_rule_checked(name, value)
        except ValueError as exc:
            problems.append(RowProblem(0, str(exc), f"quality_rules.{name}"))
    if problems:
        raise CrowdInputError(problems, "quality_rules")
    locked = Study.objects.select_for_update().get(pk=study.pk)
    before = dict(locked.quality_rules or {})
    if merged == before:
        return locked
    locked.quality_rules = merged
    locked.save(update_fields=["quality_rules"])
    edit_record(obj=locked, actor=by, action=AuditEvent.Action.SETTINGS_CHANGE,
                before={"quality_rules": before}, after={"quality_rules": merged})  # fmt: skip
    transaction.on_commit(lambda: study_stats_invalidate(study.pk))
    return locked


@transaction.atomic
def study_gold_prompts_update(
    *, study: Study, gold: dict[str, str], by: AbstractBaseUser | None = None
) -> list[GoldPrompt]:
    """Mark prompts of the study's set as gold ({prompt external id: expected verdict});
    an empty value unmarks one; others stay as they are; a change is recorded (who, when,
    the changed prompts' answers before and after). CrowdInputError names each bad row;
    nothing is saved then."""
    allowed = VERDICTS.get(study.kind)
    if allowed is None:
        raise CrowdInputError([RowProblem(0, f"a {study.kind} study has no gold answers",
                                          "gold")], "gold")  # fmt: skip
    prompts = dict(
        Prompt.objects.filter(prompt_set_id=study.prompt_set_id, external_id__in=list(gold))
        .values_list("external_id", "id")
    )  # fmt: skip
    problems = []
    for n, (external_id, expected) in enumerate(gold.items(), start=1):
        if external_id not in prompts:
            problems.append(RowProblem(n, f"no prompt {external_id!r} in the study's set",
                                       "prompt"))  # fmt: skip
        elif expected and expected not in allowed:
            problems.append(RowProblem(n, f"one of {', '.join(allowed)}", "expected"))
    if problems:
        raise CrowdInputError(problems, "gold")
    before = study_gold_prompts(study)
    GoldPrompt.objects.filter(study=study, prompt_id__in=list(prompts.values())).delete()
    made = GoldPrompt.objects.bulk_create(
        GoldPrompt(study=study, prompt_id=prompts[pid], expected=expected)
        for pid, expected in gold.items() if expected
    )  # fmt: skip
    old, new = ({k: v.get(k, "") for k in gold} for v in (before, study_gold_prompts(study)))
    if old != new:
        edit_record(obj=study, actor=by, action=AuditEvent.Action.SETTINGS_CHANGE,
                    before={"gold": old}, after={"gold": new})  # fmt: skip
    transaction.on_commit(lambda: study_stats_invalidate(study.pk))
    return made


def study_gold_prompts(study: Study) -> dict[str, str]:
    """{prompt external id: expected verdict} of the study's gold prompts."""
    return dict(
        GoldPrompt.objects.filter(study=study)
        .order_by("prompt__external_id")
        .values_list("prompt__external_id", "expected")
    )
