"""Writes for studies: launch (freeze config, make items), close, reopen and expire
reservations; the answer's checks (verdict fields, too fast, attention checks). Reserving
an item and recording a judgment are evalhub.studies.pool's statements."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import time
from collections import Counter
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from evalhub.importing import InputError, RowProblem
from evalhub.instruments.definitions import STUDY_KINDS, AnswerError, Definition
from evalhub.instruments.selectors import definition_of
from evalhub.instruments.services import instrument_for_study_kind
from evalhub.outputs.models import Output
from evalhub.outputs.rendering import render_untrusted_markdown
from evalhub.prompts.models import Prompt
from evalhub.rating import content
from evalhub.rating.models import ItemPage
from evalhub.studies.models import Assignment, Item, Study
from evalhub.teams.models import AuditEvent, Team
from evalhub.teams.services import audit_record

log = logging.getLogger(__name__)

CONFIG_SCHEMA = 1
MAX_ATTENTION_FAILURES = 2
# An answer faster than this is flagged (never blocked): a floor, or reading every
# character shown at `chars_per_second`, about four times a careful reading pace.
TOO_FAST = {"floor_ms": 3000, "chars_per_second": 80}
# Expired reservations go back to the pool at least this often, per web process.
SWEEP_EVERY_SECONDS = 5.0
_last_sweep: dict[int, float] = {}


class StudyStateError(ValueError):
    """The study is not in a state that allows this (e.g. launching a launched study)."""


class JudgmentInputError(ValueError):
    """A submitted answer that does not fit the form; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


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
    instrument = study.instrument
    if instrument is not None and study.kind not in STUDY_KINDS[instrument.kind]:
        problems.append(
            RowProblem(0, f"instrument {instrument.slug} ({instrument.kind}) cannot run a "
                       f"{study.kind} study", "instrument")
        )  # fmt: skip
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


def gold_item_count(study: Study, real: int, prompts: int) -> int:
    """Enough distinct gold items for any session to meet its checks, and the study's rate
    of the real items; never more than there are prompts to build them from."""
    rate = study.attention_check_rate
    # Gold answers are written in the instrument's own choices; one with none has no checks.
    if rate <= 0 or not study.instrument.definition.gold_answer:
        return 0
    wanted = max(2, math.ceil(real * rate), math.ceil(study.session_quota * rate) + 1)
    return min(prompts, wanted)


def study_items_build(
    study: Study, prompts: list[Prompt], baselines: list[Any]
) -> tuple[list[tuple[Item, dict[str, Any]]], list[RowProblem], list[str]]:
    """Unsaved (Item, page fields) pairs, real then gold, the problems that stop launch, and
    the external ids of the prompts left out because a chosen model has no output for them."""
    target = study.target_model
    pairwise = study.kind == Study.Kind.PAIRWISE
    models = [target, *baselines] if pairwise else [target]
    outputs = _first_outputs(prompts, [m.pk for m in models])
    problems: list[RowProblem] = []
    # A prompt some chosen model never answered is left out; the rest still make a study.
    left_out = [p.external_id for p in prompts if any((p.pk, m.pk) not in outputs for m in models)]
    covered = [p for p in prompts if all((p.pk, m.pk) in outputs for m in models)]
    if not covered:
        names = ", ".join(m.slug for m in models)
        message = (
            f"no prompt of {study.prompt_set.slug} has an output from every chosen model ({names})"
        )
        return [], [RowProblem(0, message, "target_model")], left_out
    prompts = covered

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
        return [], problems, left_out

    # Gold items reuse real prompts, picked by a seed from the slug so launch is repeatable.
    rng = random.Random(study.slug)
    gold_prompts = rng.sample(prompts, k=gold_item_count(study, len(built), len(prompts)))
    gold_answer = study.instrument.definition.gold_answer
    for n, prompt in enumerate(gold_prompts):
        mine = outputs[(prompt.pk, target.pk)]
        seed = rng.randrange(2**31)
        broken = content.broken_text(mine.text, seed=seed)
        item = Item(study=study, prompt=prompt, target_output=mine, is_gold=True)
        item.gold_answer = gold_answer
        if pairwise:
            page = content.pairwise_page(prompt, mine, render_untrusted_markdown(broken), broken)
        elif study.kind == Study.Kind.DIALOGUE:
            page = content.dialogue_page(
                prompt, content.dialogue_turns(prompt, mine) or [], broken_seed=seed + n
            )
        else:
            page = content.single_page(prompt, render_untrusted_markdown(broken), broken)
        built.append((item, page))
    return built, [], left_out


def _config(
    study: Study,
    baselines: list[Any],
    built: list[tuple[Item, dict[str, Any]]],
    left_out: list[str],
) -> dict:
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
        "instrument": {
            "slug": study.instrument.slug,
            "version": study.instrument.version,
            "content_hash": study.instrument.content_hash,
        },
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
        # Prompts without an output from every chosen model, by external id.
        "prompts_left_out": left_out,
    }


def config_hash(config: dict[str, Any]) -> str:
    """sha256 of the config's canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def study_create(
    *,
    team: Team,
    slug: str,
    name: str,
    prompt_set: Any,
    target_model: Any,
    kind: str = Study.Kind.PAIRWISE,
    baselines: list[Any] | None = None,
    judges: list[Any] | None = None,
    created_by: AbstractBaseUser | None = None,
    **settings: Any,
) -> Study:
    """A draft study; `settings` are Study fields (raters_per_item, attention_check_rate,
    session_quota, reservation_seconds, completion_code, screenout_code,
    inconsistent_pair_policy, instrument). The web form and the API both create studies here."""
    if Study.objects.filter(team=team, slug=slug).exists():
        raise InputError([RowProblem(0, f"a study {slug} already exists", "slug")])
    # A study that names no instrument asks its kind's LIMA preset (its preview shows it).
    settings["instrument"] = settings.get("instrument") or instrument_for_study_kind(kind)
    study = Study.objects.create(
        team=team, slug=slug, name=name, kind=kind, prompt_set=prompt_set,
        target_model=target_model,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
        **settings,
    )  # fmt: skip
    study.baselines.set(baselines or [])
    study.judges.set(judges or [])
    return study


@transaction.atomic
def study_launch(*, study: Study, by: AbstractBaseUser | None = None) -> Study:
    """Freeze a draft study's config (stored with its sha256) and make its items.

    pairwise: one item per prompt and baseline (target vs baseline), each needing both
    outputs (sample 0); absolute and likert: one item per prompt with the target's output;
    dialogue: one item per prompt whose assistant turns are each rated. Gold attention-check
    items are added at the study's rate. Prompts lacking an output from a chosen model are
    left out and listed in config["prompts_left_out"]. Raises InputError when no prompt is
    left or a setting is wrong (nothing is written), StudyStateError unless it is a draft."""
    study = (
        Study.objects.select_for_update(of=("self",))
        .select_related("prompt_set", "target_model", "instrument")
        .get(pk=study.pk)
    )
    if study.status != Study.Status.DRAFT:
        raise StudyStateError(f"study {study.slug} is {study.status}; only a draft can launch")
    if study.instrument is None:
        study.instrument = instrument_for_study_kind(study.kind)
    baselines = list(study.baselines.order_by("slug")) if study.kind == Study.Kind.PAIRWISE else []
    prompts = list(study.prompt_set.prompts.order_by("position", "id"))
    problems = _settings_problems(study, baselines, prompts)
    built, output_problems, left_out = (
        ([], [], []) if problems else study_items_build(study, prompts, baselines)
    )
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
    study.config = _config(study, baselines, built, left_out)
    study.config_hash = config_hash(study.config)
    study.status = Study.Status.LAUNCHED
    study.launched_at = timezone.now()
    study.save(update_fields=["instrument", "config", "config_hash", "status", "launched_at"])
    log.info(
        "study %s launched by %s: %s items, %s prompts left out",
        study.slug, by or "system", len(items), len(left_out),
    )  # fmt: skip
    audit_record(team=study.team, actor=by, action=AuditEvent.Action.LAUNCH, obj=study,
                 details={"items": len(items), "config_hash": study.config_hash})  # fmt: skip
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
    audit_record(team=study.team, actor=by, action=AuditEvent.Action.CLOSE, obj=study)
    return study


@transaction.atomic
def study_reopen(*, study: Study, by: AbstractBaseUser | None = None) -> Study:
    """Reopen a closed study: its items go back in the pool (same frozen config)."""
    study = Study.objects.select_for_update().get(pk=study.pk)
    if study.status != Study.Status.CLOSED:
        raise StudyStateError(f"study {study.slug} is {study.status}; only a closed one reopens")
    study.status = Study.Status.LAUNCHED
    study.closed_at = None
    study.save(update_fields=["status", "closed_at"])
    log.info("study %s reopened by %s", study.slug, by or "system")
    return study


# --- the assignment pool ------------------------------------------------------------------


@transaction.atomic
def assignments_expire(*, study: Study | None = None, now: datetime | None = None) -> int:
    """End reservations past their time and give their slots back to the pool. Rows a
    submit holds right now are skipped (that submit decides them). Returns how many."""
    now = now or timezone.now()
    due = Assignment.objects.filter(status=Assignment.Status.RESERVED, expires_at__lte=now)
    if study is not None:
        due = due.filter(item__study=study)
    rows = list(due.select_for_update(skip_locked=True).values_list("id", "item_id"))
    if not rows:
        return 0
    Assignment.objects.filter(id__in=[pk for pk, _ in rows]).update(
        status=Assignment.Status.EXPIRED
    )
    per_item = Counter(item_id for _, item_id in rows)
    by_count: dict[int, list[int]] = {}
    for item_id, n in per_item.items():
        by_count.setdefault(n, []).append(item_id)
    for n, item_ids in by_count.items():
        ItemPage.objects.filter(item_id__in=item_ids, is_gold=False).update(taken=F("taken") - n)
    return len(rows)


def sweep_now_and_then(study_id: int, now: datetime) -> None:
    """Expire the study's overdue reservations, at most every SWEEP_EVERY_SECONDS here."""
    if time.monotonic() - _last_sweep.get(study_id, 0.0) >= SWEEP_EVERY_SECONDS:
        _last_sweep[study_id] = time.monotonic()
        assignments_expire(study=Study(pk=study_id), now=now)


# --- judgments ----------------------------------------------------------------------------


def too_fast_threshold_ms(reading_chars: int, policy: dict[str, Any] | None = None) -> int:
    """Milliseconds under which an answer counts as too fast for this much text."""
    policy = policy or TOO_FAST
    return max(int(policy["floor_ms"]), int(reading_chars * 1000 / policy["chars_per_second"]))


def verdict_fields(
    definition: Definition,
    kind: str,
    target_side: str,
    choice: str,
    labels: list[str] | None,
    turns: int,
    comment: str = "",
) -> dict[str, Any]:
    """raw_choice, verdict, score, order and turn_labels of an answer, in the instrument's
    choices, to a `kind` study's item shown with the target on `target_side` (`turns`: a
    dialogue's turn count); JudgmentInputError names the bad field."""
    try:
        return definition.answer_fields(kind, target_side, choice, labels, turns, comment)
    except AnswerError as exc:
        raise JudgmentInputError(exc.field, str(exc).split(": ", 1)[1]) from exc


def study_definition(study: Study) -> Definition:
    """The definition of the instrument a launched study asks (cached per process)."""
    return definition_of(
        study.instrument_id, (study.config.get("instrument") or {}).get("content_hash")
    )


def gold_answer_given(gold_answer: str, verdict: str, turn_labels: list[str]) -> bool:
    """Whether an answer (verdict, or every turn's label in dialogues) is the gold answer."""
    if turn_labels:
        return all(label == gold_answer for label in turn_labels)
    return verdict == gold_answer
