"""Studies with hand-constructed judgments, written straight to the database."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.outputs.models import ModelEntry, Output
from evalhub.prompts.models import Prompt, PromptSet
from evalhub.studies.models import Item, Judge, Judgment, Rater, Study
from tests.factories import lab_team

# LIMA Figures 1 and 2: LIMA's win / tie / loss (%) against each baseline.
LIMA_HUMAN = {
    "alpaca-65b": (53, 21, 26),
    "davinci003": (44, 21, 35),
    "bard": (33, 25, 42),
    "claude": (24, 22, 54),
    "gpt-4": (18, 25, 57),
}
LIMA_GPT4 = {
    "alpaca-65b": (64, 19, 17),
    "davinci003": (54, 23, 23),
    "bard": (27, 26, 47),
    "claude": (14, 23, 63),
    "gpt-4": (19, 15, 66),
}
CATEGORIES = ("advice", "writing")


def verdicts_for(wins: int, ties: int, losses: int) -> list[str]:
    """One verdict per prompt: `wins` target, then `ties` tie, then `losses` baseline."""
    return ["target"] * wins + ["tie"] * ties + ["baseline"] * losses


def build_pairwise_study(
    *,
    slug: str,
    baselines: list[str],
    n_prompts: int,
    target: str = "lima-65b",
    kind: str = Study.Kind.PAIRWISE,
    raters_per_item: int = 1,
) -> tuple[Study, dict[tuple[str, int], Item]]:
    """A study with one item per (baseline, prompt); prompts alternate CATEGORIES.
    Output lengths: the target's answers are longer on even prompts."""
    prompt_set = PromptSet.objects.create(team=lab_team(), slug=f"{slug}-set", name=slug)
    prompts = Prompt.objects.bulk_create(
        Prompt(prompt_set=prompt_set, external_id=f"q{i}", text=f"Question {i}?",
               category=CATEGORIES[i % 2], position=i)
        for i in range(n_prompts)
    )  # fmt: skip
    models = {m: ModelEntry.objects.get_or_create(slug=m, defaults={"name": m, "team": lab_team()})[0]
              for m in [target, *baselines]}  # fmt: skip
    outputs = Output.objects.bulk_create(
        Output(prompt=p, model=models[m], text=("x" * (200 if (m == target) == (i % 2 == 0) else 50)))
        for i, p in enumerate(prompts)
        for m in models
    )  # fmt: skip
    by = {(o.model.slug, o.prompt_id): o for o in outputs}
    study = Study.objects.create(team=lab_team(), slug=slug, name=slug.title(), kind=kind, prompt_set=prompt_set,
                                 target_model=models[target], raters_per_item=raters_per_item,
                                 status=Study.Status.LAUNCHED)  # fmt: skip
    study.baselines.set([models[b] for b in baselines])
    pairwise = kind == Study.Kind.PAIRWISE
    items = Item.objects.bulk_create(
        Item(study=study, prompt=p, target_output=by[(target, p.pk)],
             baseline_output=by[(b, p.pk)] if pairwise else None)
        for b in (baselines if pairwise else [target])
        for p in prompts
    )  # fmt: skip
    keyed = {}
    for n, item in enumerate(items):
        baseline = (baselines if pairwise else [target])[n // n_prompts]
        keyed[(baseline, n % n_prompts)] = item
    return study, keyed


def add_human(items: dict[tuple[str, int], Item], verdicts: dict[str, list[str]],
              group: str = "crowd") -> list[Judgment]:  # fmt: skip
    """One human judgment per (baseline, prompt) with the given verdicts; the order shown
    alternates by prompt. Bulk-created, so the stats cache is invalidated by hand."""
    rater = Rater.objects.create(
        group=group, external_id_hash=f"hash-{group}-{Rater.objects.count()}"
    )
    study_stats_invalidate(next(iter(items.values())).study_id)
    return Judgment.objects.bulk_create(
        Judgment(item=items[(b, i)], rater=rater, judge_group=group, verdict=v,
                 order="target_first" if i % 2 == 0 else "baseline_first")
        for b, vs in verdicts.items()
        for i, v in enumerate(vs)
    )  # fmt: skip


def add_llm(items: dict[tuple[str, int], Item], target_first: dict[str, list[str]],
            baseline_first: dict[str, list[str]] | None = None, slug: str = "gpt-4") -> Judge:  # fmt: skip
    """An LLM judge's verdicts in both orders (the same in both unless baseline_first given)."""
    judge, _ = Judge.objects.get_or_create(slug=slug, defaults={"team": lab_team(),
        "name": slug, "model": slug, "base_url": "http://127.0.0.1:9/v1", "template": "lima_pairwise"})  # fmt: skip
    baseline_first = baseline_first or target_first
    study_stats_invalidate(next(iter(items.values())).study_id)
    Judgment.objects.bulk_create(
        Judgment(item=items[(b, i)], judge=judge, judge_group=f"llm:{slug}", verdict=v,
                 order=order, parse_state="ok")
        for order, source in (("target_first", target_first), ("baseline_first", baseline_first))
        for b, vs in source.items()
        for i, v in enumerate(vs)
    )  # fmt: skip
    return judge


@pytest.fixture
def lima_study(db) -> Study:
    """LIMA Figures 1 and 2 over 100 prompts: crowd and GPT-4 verdicts give exactly the
    paper's percentages against each of the five baselines."""
    study, items = build_pairwise_study(
        slug="lima-figure-1", baselines=list(LIMA_HUMAN), n_prompts=100
    )
    add_human(items, {b: verdicts_for(*wtl) for b, wtl in LIMA_HUMAN.items()})
    add_llm(items, {b: verdicts_for(*wtl) for b, wtl in LIMA_GPT4.items()})
    return study


@pytest.fixture
def study_builder(db) -> Callable[..., tuple[Study, dict[tuple[str, int], Item]]]:
    return build_pairwise_study


def answer_with_the_lima_instrument(study) -> None:
    """Give the study LIMA's 3-way instrument and each judgment the raw choice a rater would
    have made for its verdict, as shown (A is the left-hand answer)."""
    from django.db.models import Case, Q, Value, When

    from evalhub.instruments.services import instrument_for_study_kind
    from evalhub.studies.models import Judgment

    study.instrument = instrument_for_study_kind(study.kind)
    study.save(update_fields=["instrument"])
    target_left = Q(order="target_first")
    Judgment.objects.filter(item__study=study).update(raw_choice=Case(
        When(verdict="tie", then=Value("tie")),
        When(Q(verdict="target") & target_left | Q(verdict="baseline") & ~target_left,
             then=Value("A")),
        default=Value("B"),
    ))  # fmt: skip


def lc_fits_land(study) -> None:
    """The study's LC fits, computed as their `fit` jobs would (no worker in this test)."""
    from evalhub.dashboards.selectors import study_results
    from evalhub.dashboards.selectors.alpaca_lc import LC_KIND
    from evalhub.fits.models import SharedFit
    from evalhub.fits.services import shared_fit_compute

    study_results(study)  # asks for them
    for pk in SharedFit.objects.filter(kind=LC_KIND, status="pending").values_list("pk", flat=True):
        shared_fit_compute(fit_id=pk)
