"""Writes for studies: launch (freeze config, make items) and close. Reserving items and
recording judgments (the rating hot path) live in evalhub.studies.pool."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from evalhub.importing import InputError, RowProblem
from evalhub.outputs.models import Output
from evalhub.outputs.rendering import render_untrusted_markdown
from evalhub.prompts.models import Prompt
from evalhub.rating import content
from evalhub.rating.models import ItemPage
from evalhub.studies.models import Assignment, Item, Judgment, Study
from evalhub.studies.pool import MAX_ATTENTION_FAILURES, TOO_FAST

log = logging.getLogger(__name__)

CONFIG_SCHEMA = 1


class StudyStateError(ValueError):
    """The study is not in a state that allows this (e.g. launching a launched study)."""


# --- launch -------------------------------------------------------------------------------


def _settings_problems(
    study: Study, baselines: list[Any], prompts: list[Prompt]
) -> list[RowProblem]:
    problems = []
    if study.raters_per_item < 1:
        problems.append(RowProblem(0, "must be at least 1", "raters_per_item"))
    if not 0 <= study.attention_check_rate < 1:
        problems.append(RowProblem(0, "must be in [0, 1)", "attention_check_rate"))
    if study.session_quota < 1:
        problems.append(RowProblem(0, "must be at least 1", "session_quota"))
    if study.reservation_seconds < 30:
        problems.append(RowProblem(0, "must be at least 30 seconds", "reservation_seconds"))
    if study.kind == Study.Kind.PAIRWISE and not baselines:
        problems.append(RowProblem(0, "a pairwise study needs at least one baseline", "baselines"))
    if not prompts:
        problems.append(RowProblem(0, f"prompt set {study.prompt_set.slug} is empty", "prompt_set"))
    return problems


def _first_outputs(prompts: list[Prompt], model_ids: list[int]) -> dict[tuple[int, int], Output]:
    """(prompt id, model id) -> the output with the lowest sample index."""
    found: dict[tuple[int, int], Output] = {}
    rows = Output.objects.filter(prompt__in=prompts, model_id__in=model_ids).order_by(
        "prompt_id", "model_id", "sample_index"
    )
    for output in rows:
        found.setdefault((output.prompt_id, output.model_id), output)
    return found


def _gold_count(study: Study, real: int, prompts: int) -> int:
    """Enough distinct gold items for any session to meet its checks, and the study's rate
    of the real items; never more than there are prompts to build them from."""
    rate = study.attention_check_rate
    if rate <= 0 or study.kind == Study.Kind.LIKERT:
        return 0
    wanted = max(2, math.ceil(real * rate), math.ceil(study.session_quota * rate) + 1)
    return min(prompts, wanted)


def _build_items(
    study: Study, prompts: list[Prompt], baselines: list[Any]
) -> tuple[list[tuple[Item, dict[str, Any]]], list[RowProblem]]:
    """Unsaved (Item, page fields) pairs, real then gold, or the problems that stop launch."""
    target = study.target_model
    pairwise = study.kind == Study.Kind.PAIRWISE
    models = [target, *baselines] if pairwise else [target]
    outputs = _first_outputs(prompts, [m.pk for m in models])
    problems: list[RowProblem] = []
    for prompt in prompts:
        lacking = [m.slug for m in models if (prompt.pk, m.pk) not in outputs]
        if lacking:
            problems.append(
                RowProblem(0, f"prompt {prompt.external_id}: no output from {', '.join(lacking)}")
            )
    if problems:
        return [], problems

    built: list[tuple[Item, dict[str, Any]]] = []
    for prompt in prompts:
        mine = outputs[(prompt.pk, target.pk)]
        if pairwise:
            for baseline in baselines:
                theirs = outputs[(prompt.pk, baseline.pk)]
                item = Item(study=study, prompt=prompt, target_output=mine, baseline_output=theirs)
                page = content.pairwise_page(prompt, mine, content.output_html(theirs), theirs.text)
                built.append((item, page))
        elif study.kind == Study.Kind.DIALOGUE:
            turns = content.dialogue_turns(prompt, mine)
            if turns is None:
                problems.append(
                    RowProblem(0, f"prompt {prompt.external_id}: the output's turns do not "
                               "match the prompt's user turns", "turns")
                )  # fmt: skip
                continue
            built.append((Item(study=study, prompt=prompt, target_output=mine),
                          content.dialogue_page(prompt, turns)))  # fmt: skip
        else:
            page = content.single_page(prompt, content.output_html(mine), mine.text)
            built.append((Item(study=study, prompt=prompt, target_output=mine), page))
    if problems:
        return [], problems

    # Gold items reuse real prompts, picked by a seed from the slug so launch is repeatable.
    rng = random.Random(study.slug)
    gold_prompts = rng.sample(prompts, k=_gold_count(study, len(built), len(prompts)))
    for n, prompt in enumerate(gold_prompts):
        mine = outputs[(prompt.pk, target.pk)]
        seed = rng.randrange(2**31)
        broken = content.broken_text(mine.text, seed=seed)
        item = Item(study=study, prompt=prompt, target_output=mine, is_gold=True)
        if pairwise:
            item.gold_answer = Judgment.Verdict.TARGET
            page = content.pairwise_page(prompt, mine, render_untrusted_markdown(broken), broken)
        elif study.kind == Study.Kind.DIALOGUE:
            item.gold_answer = Judgment.Verdict.FAIL
            page = content.dialogue_page(
                prompt, content.dialogue_turns(prompt, mine) or [], broken_seed=seed + n
            )
        else:
            item.gold_answer = Judgment.Verdict.FAIL
            page = content.single_page(prompt, render_untrusted_markdown(broken), broken)
        built.append((item, page))
    return built, []


def _config(study: Study, baselines: list[Any], built: list[tuple[Item, dict[str, Any]]]) -> dict:
    gold = sum(item.is_gold for item, _ in built)
    digest = hashlib.sha256(
        json.dumps(
            [[i.prompt_id, i.target_output_id, i.baseline_output_id, i.is_gold] for i, _ in built]
        ).encode()
    ).hexdigest()
    return {
        "schema": CONFIG_SCHEMA,
        "study": study.slug,
        "kind": study.kind,
        "prompt_set": study.prompt_set.slug,
        "target": study.target_model.slug,
        "baselines": [b.slug for b in baselines],
        "judges": [
            {"slug": j.slug, "version_hash": j.version_hash} for j in study.judges.order_by("slug")
        ],
        "raters_per_item": study.raters_per_item,
        "attention_checks": {
            "rate": study.attention_check_rate,
            "max_failures": MAX_ATTENTION_FAILURES,
            "gold_items": gold,
            "kind": "plainly broken response",
        },
        "session_quota": study.session_quota,
        "reservation_seconds": study.reservation_seconds,
        "completion_code": study.completion_code,
        "screenout_code": study.screenout_code,
        "inconsistent_pair_policy": study.inconsistent_pair_policy,
        "too_fast": TOO_FAST,
        "items": {"real": len(built) - gold, "gold": gold, "sha256": digest},
    }


def config_hash(config: dict[str, Any]) -> str:
    """sha256 of the config's canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def study_launch(*, study: Study, by: AbstractBaseUser | None = None) -> Study:
    """Freeze a draft study's config (stored with its sha256) and make its items.

    pairwise: one item per prompt and baseline (target vs baseline), each needing both
    outputs (sample 0); absolute and likert: one item per prompt with the target's output;
    dialogue: one item per prompt whose assistant turns are each rated. Gold attention-check
    items are added at the study's rate. Raises InputError listing every prompt that lacks
    an output (nothing is written), StudyStateError unless the study is a draft."""
    study = (
        Study.objects.select_for_update()
        .select_related("prompt_set", "target_model")
        .get(pk=study.pk)
    )
    if study.status != Study.Status.DRAFT:
        raise StudyStateError(f"study {study.slug} is {study.status}; only a draft can launch")
    baselines = list(study.baselines.order_by("slug")) if study.kind == Study.Kind.PAIRWISE else []
    prompts = list(study.prompt_set.prompts.order_by("position", "id"))
    problems = _settings_problems(study, baselines, prompts)
    built, output_problems = ([], []) if problems else _build_items(study, prompts, baselines)
    problems += output_problems
    if problems:
        raise InputError(problems, source=f"study {study.slug} cannot launch")

    items = Item.objects.bulk_create([item for item, _ in built], batch_size=1000)
    ItemPage.objects.bulk_create(
        [
            ItemPage(item=item, study=study, is_gold=item.is_gold, **page)
            for item, (_, page) in zip(items, built, strict=True)
        ],
        batch_size=500,
    )
    study.config = _config(study, baselines, built)
    study.config_hash = config_hash(study.config)
    study.status = Study.Status.LAUNCHED
    study.launched_at = timezone.now()
    study.save(update_fields=["config", "config_hash", "status", "launched_at"])
    log.info("study %s launched by %s: %s items", study.slug, by or "system", len(items))
    return study


@transaction.atomic
def study_close(*, study: Study, by: AbstractBaseUser | None = None) -> Study:
    """Close a launched study: no more reservations or judgments; live reservations end."""
    study = Study.objects.select_for_update().get(pk=study.pk)
    if study.status != Study.Status.LAUNCHED:
        raise StudyStateError(f"study {study.slug} is {study.status}; only a launched one closes")
    Assignment.objects.filter(item__study=study, status=Assignment.Status.RESERVED).update(
        status=Assignment.Status.EXPIRED
    )
    judged = Item.objects.filter(pk=OuterRef("item_id")).values("judgment_count")[:1]
    ItemPage.objects.filter(study=study).update(taken=Subquery(judged))
    study.status = Study.Status.CLOSED
    study.closed_at = timezone.now()
    study.save(update_fields=["status", "closed_at"])
    log.info("study %s closed by %s", study.slug, by or "system")
    return study
