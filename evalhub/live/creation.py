"""Creating a live study: check its settings, then write the Study, its LiveStudy and the
prompt set that keeps what raters write."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from evalhub.instruments.models import Instrument
from evalhub.live.battle_instrument import check_battle_instrument
from evalhub.live.errors import LiveInputError
from evalhub.live.models import LiveStudy
from evalhub.outputs.models import ModelEntry
from evalhub.prompts.models import PromptSet
from evalhub.studies.models import Study
from evalhub.studies.services import config_hash
from evalhub.teams.models import Team


@transaction.atomic
def live_study_create(
    *,
    team: Team,
    slug: str,
    name: str,
    mode: str,
    models: list[ModelEntry],
    participants: str = LiveStudy.Participants.PROLIFIC,
    max_turns: int = 3,
    target_per_pair: int = 10,
    adaptive: bool = False,
    reveal_models: bool = False,
    session_quota: int = 3,
    completion_code: str = "",
    screenout_code: str = "",
    max_prompt_chars: int = 4000,
    messages_per_minute: int = 6,
    blocklist: list[str] | None = None,
    moderation_judge: Any = None,
    model_limits: dict[str, dict[str, int]] | None = None,
    by: AbstractBaseUser | None = None,
    launch: bool = True,
    instrument: Instrument | None = None,
) -> Study:
    """A live study over `models` (target first), launched unless `launch` is False (a
    draft, launched later by live_study_launch). A battle asks `instrument` (pairwise;
    None: LIMA's 3-way question); conversations ask LIMA's Fail / Pass / Excellent. Its
    rater prompts are kept in a prompt set of its own, `<slug>-live`, usable later by
    offline studies. `participants` staff: logged-in users rate (/live/<slug>/staff/), with
    no Prolific link or codes. Raises LiveInputError naming the bad setting."""
    if mode not in LiveStudy.Mode.values:
        raise LiveInputError(f"mode: must be one of {', '.join(LiveStudy.Mode.values)}")
    if participants not in LiveStudy.Participants.values:
        raise LiveInputError(
            f"participants: must be one of {', '.join(LiveStudy.Participants.values)}"
        )
    if participants == LiveStudy.Participants.STAFF and (completion_code or screenout_code):
        raise LiveInputError("completion_code, screenout_code: a staff study has no Prolific codes")
    need = 2 if mode == LiveStudy.Mode.BATTLE else 1
    if len(models) < need:
        raise LiveInputError(f"models: a live {mode} needs at least {need} models")
    for model in models:
        if model.kind == ModelEntry.Kind.EXTERNAL or not model.base_url or not model.model_path:
            raise LiveInputError(
                f"models: {model.slug} has no OpenAI-compatible endpoint (base_url and "
                "model_path, the model name there)"
            )
    if instrument is not None and mode != LiveStudy.Mode.BATTLE:
        raise LiveInputError("instrument: only a live battle takes an instrument for now")
    check_battle_instrument(instrument)
    if not 1 <= max_turns <= 20:
        raise LiveInputError("max_turns: must be between 1 and 20")
    if session_quota < 1 or target_per_pair < 1:
        raise LiveInputError("session_quota and target_per_pair: must be at least 1")
    prompt_set = PromptSet.objects.create(
        team=team, slug=f"{slug}-live"[:100], name=f"{name} (live prompts)",
        description=f"Prompts raters wrote in the live study {slug}.",
    )  # fmt: skip
    kind = Study.Kind.PAIRWISE if mode == LiveStudy.Mode.BATTLE else Study.Kind.DIALOGUE
    study = Study.objects.create(
        team=team, slug=slug, name=name, kind=kind, prompt_set=prompt_set, target_model=models[0],
        raters_per_item=1, attention_check_rate=0, session_quota=session_quota,
        completion_code=completion_code, screenout_code=screenout_code, created_by=by,
        instrument=instrument,
    )  # fmt: skip
    study.baselines.set(models[1:])
    live = LiveStudy.objects.create(
        study=study, mode=mode, participants=participants, max_turns=max_turns,
        target_per_pair=target_per_pair,
        adaptive=adaptive, reveal_models=reveal_models, max_prompt_chars=max_prompt_chars,
        messages_per_minute=messages_per_minute, blocklist=list(blocklist or []),
        moderation_judge=moderation_judge, model_limits=dict(model_limits or {}),
    )  # fmt: skip
    study.config = {
        "schema": 1,
        "study": slug,
        "kind": kind,
        "live": {
            "mode": mode, "participants": participants, "models": [m.slug for m in models],
            "max_turns": max_turns,
            "target_per_pair": target_per_pair, "adaptive": adaptive,
            "reveal_models": reveal_models, "max_prompt_chars": max_prompt_chars,
            "messages_per_minute": messages_per_minute, "blocklist": live.blocklist,
            "moderation_judge": moderation_judge.slug if moderation_judge else "",
            "model_limits": live.model_limits,
        },
        "instrument": (
            {"slug": instrument.slug, "version": instrument.version,
             "content_hash": instrument.content_hash} if instrument else None
        ),
        "session_quota": session_quota,
        "completion_code": completion_code,
        "screenout_code": screenout_code,
        # No attention checks: a live answer has no known right label.
        "attention_checks": {"rate": 0, "kind": "none (live turns have no known answer)"},
    }  # fmt: skip
    study.config_hash = config_hash(study.config)
    study.save(update_fields=["config", "config_hash"])
    return live_study_launch(study=study, by=by) if launch else study


@transaction.atomic
def live_study_launch(*, study: Study, by: AbstractBaseUser | None = None) -> Study:
    """Open a draft live study to raters. Its config was frozen at creation; it has no items
    to make (each finished conversation becomes one)."""
    study = Study.objects.select_for_update().get(pk=study.pk)
    if study.status != Study.Status.DRAFT:
        raise LiveInputError(f"study {study.slug} is {study.status}; only a draft launches", 409)
    study.status = Study.Status.LAUNCHED
    study.launched_at = timezone.now()
    study.save(update_fields=["status", "launched_at"])
    return study
