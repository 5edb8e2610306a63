"""What a judge run has to ask: one unit per (item, order), each with its rendered prompt and
its content address. Pairwise items are asked in both orders; gold items (attention checks
for humans) are skipped."""

from __future__ import annotations

from dataclasses import dataclass

from evalhub.studies.models import Item, Judge, Judgment, Study
from generation.judging.config import JudgeConfig, JudgeConfigError, canonical_hash
from generation.judging.judge_prompts import PAIRWISE, STUDY_KIND_FOR_SCALE
from generation.judging.runner import estimate_tokens_in

TARGET_FIRST = Judgment.Order.TARGET_FIRST.value
BASELINE_FIRST = Judgment.Order.BASELINE_FIRST.value
SINGLE = Judgment.Order.SINGLE.value


@dataclass(frozen=True)
class WorkUnit:
    """One verdict to obtain: `key` addresses the cache, `prompt_text` is what is sent."""

    item_id: int
    order: str
    key: str
    prompt_text: str
    est_tokens_in: int


def judge_group_name(judge: Judge) -> str:
    """How dashboards group this judge's judgments beside "crowd" and "author"."""
    return f"llm:{judge.slug}"


def check_judge_fits_study(config: JudgeConfig, judge: Judge, study: Study) -> None:
    wanted = STUDY_KIND_FOR_SCALE[config.instrument.scale]
    if study.kind != wanted:
        raise JudgeConfigError(
            f"judge {judge.slug!r} rates on the {config.instrument.scale} scale and cannot "
            f"judge study {study.slug!r} of kind {study.kind!r} (needs a {wanted!r} study)"
        )


def prompt_text(prompt: object) -> str:
    """The question as the judge sees it; earlier turns of a dialogue come first."""
    context = getattr(prompt, "context", None) or []
    text = getattr(prompt, "text", "")
    if not context:
        return text
    turns = [f"{t.get('role', 'user').capitalize()}: {t.get('content', '')}" for t in context]
    return "\n\n".join([*turns, f"User: {text}"])


def work_units(config: JudgeConfig, judge: Judge, study: Study) -> list[WorkUnit]:
    """Every (item, order) of the study this judge must give a verdict on, in item order."""
    check_judge_fits_study(config, judge, study)
    version = config.version_hash
    items = (
        Item.objects.filter(study=study, is_gold=False)
        .select_related("prompt", "target_output", "baseline_output")
        .order_by("id")
    )
    units: list[WorkUnit] = []
    pairwise = config.instrument.scale == PAIRWISE
    for item in items:
        question = prompt_text(item.prompt)
        if pairwise:
            if item.target_output is None or item.baseline_output is None:
                raise JudgeConfigError(
                    f"item {item.pk}: a pairwise item needs a target and a baseline output"
                )
            target, baseline = item.target_output.text, item.baseline_output.text
            for order, (a, b) in (
                (TARGET_FIRST, (target, baseline)),
                (BASELINE_FIRST, (baseline, target)),
            ):
                values = {"prompt": question, "response_a": a, "response_b": b}
                units.append(_unit(config, version, item.pk, order, values))
        else:
            output = item.target_output or item.baseline_output
            if output is None:
                raise JudgeConfigError(f"item {item.pk}: has no output to rate")
            values = {"prompt": question, "response": output.text}
            units.append(_unit(config, version, item.pk, SINGLE, values))
    return units


def _unit(
    config: JudgeConfig, version: str, item_id: int, order: str, values: dict[str, str]
) -> WorkUnit:
    rendered = config.instrument.render(values)
    key = canonical_hash(
        {
            "model": config.model,
            "judge_version": version,
            "template": config.template_hash,
            "params": config.sampling,
            "values": values,
            "order": order,
        }
    )
    return WorkUnit(
        item_id, order, key, rendered, estimate_tokens_in(rendered + config.prompt_suffix)
    )
