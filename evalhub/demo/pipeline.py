"""The demo's LIMA pipeline: the tiny model fine-tuned on a dozen demo answers, judged by a
local `vllm serve` of the same tiny model, compared with the demo's two written baselines.

Everything here is real (training worker, vLLM generation, studies, the LLM judge through
an OpenAI-compatible server with guided choice) except two things, said out loud in the
demo's banner: the tiny model's weights are random, so its answers are gibberish and its
verdicts as a judge are random; and the human verdicts are SIMULATED (evalhub.demo.crowd)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings

from evalhub.demo.services import BASELINES, DEMO_FILE, DEMO_SET, demo_team
from evalhub.outputs.models import ModelEntry
from evalhub.pipeline.models import Pipeline
from evalhub.pipeline.services import (
    dev_set_from_test,
    pipeline_judges_register,
    pipeline_resume,
    pipeline_start,
)
from evalhub.prompts.models import PromptSet
from evalhub.studies.models import Judge

DEMO_PIPELINE = "demo-lima"
DEMO_JUDGE_MODEL = "tiny"  # the name `vllm serve --served-model-name` gives it
DEMO_JUDGE_SLUG = "demo-tiny-judge"
TRAIN_EXAMPLES = 12
DEV_PROMPTS = 3
# Small enough for two shared CPU cores: 2 epochs over 12 short examples, both saved.
DEMO_RECIPE = {
    "epochs": 2,
    "batch_size": 4,
    "save_epochs": [1, 2],
    "max_length": 512,
    "micro_batch_tokens": 1024,
}
DEMO_MAX_TOKENS = 96


@dataclass(frozen=True)
class DemoPipeline:
    pipeline: Pipeline
    lines: list[str]


def demo_training_rows() -> list[tuple[int, dict]]:
    """LIMA-format rows {"conversations": [prompt, answer]} from the demo's target answers."""
    rows = []
    for n, line in enumerate(DEMO_FILE.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip() and len(rows) < TRAIN_EXAMPLES:
            row = json.loads(line)
            rows.append((n, {"conversations": [row["text"], row["target"]], "source": "demo"}))
    return rows


def demo_pipeline_start(*, judge_base_url: str, base_url: str) -> DemoPipeline:
    """Start the demo pipeline once (or go on with it after a failure or a restart)."""
    from training.models import Recipe, TrainingDataset
    from training.services import dataset_import, recipe_presets_ensure

    team = demo_team()
    pipeline = Pipeline.objects.filter(team=team, slug=DEMO_PIPELINE).first()
    if pipeline is not None:
        # The judge server may listen elsewhere this time. The URL only says where to call,
        # not what judges (it is outside the version hash), so the verdicts stay valid.
        judges = Judge.objects.filter(team=team, slug__startswith=f"{DEMO_JUDGE_SLUG}-")
        judges.update(base_url=judge_base_url)
        pipeline = pipeline_resume(pipeline=pipeline)
    else:
        recipe_presets_ensure()
        dataset = TrainingDataset.objects.filter(team=team, slug=f"{DEMO_PIPELINE}-train").first()
        dataset = dataset or dataset_import(
            team=team,
            slug=f"{DEMO_PIPELINE}-train",
            name="Demo answers (12)",
            rows=demo_training_rows(),
        )
        test_set = PromptSet.objects.get(team=team, slug=DEMO_SET)
        pipeline = pipeline_start(
            team=team,
            slug=DEMO_PIPELINE,
            name="Demo LIMA pipeline (tiny model)",
            dataset=dataset,
            base_model=str(settings.VAR_DIR / "tiny-model"),
            recipe=Recipe.objects.get(slug="lima-65b"),
            recipe_overrides=DEMO_RECIPE,
            test_prompt_set=test_set,
            dev_prompt_set=dev_set_from_test(
                test_prompt_set=test_set, slug=f"{DEMO_PIPELINE}-dev", size=DEV_PROMPTS
            ),
            baselines=list(ModelEntry.objects.filter(team=team, slug__in=BASELINES.values())),
            judges=pipeline_judges_register(
                team=team,
                slug=DEMO_JUDGE_SLUG,
                model=DEMO_JUDGE_MODEL,
                base_url=judge_base_url,
                # max_tokens left to the judge: it sizes it to the longest guided choice.
                params={"seed": 0},
            ),
            generation_overrides={"max_tokens": DEMO_MAX_TOKENS},
            simulate_crowd=True,
        )
    lines = [
        f"  pipeline      {DEMO_PIPELINE}: train -> pick checkpoint -> generate -> studies"
        " -> judge",
        f"                progress at {base_url}/jobs/{pipeline.job_id}/",
        f"                dashboards at {base_url}/dashboards/ when it is done (a few minutes)",
        f"                also: manage.py lima_pipeline --resume {DEMO_PIPELINE} --follow",
        "                NOTE: the LLM judge is a `vllm serve` of the same tiny random model:",
        "                its verdicts are random. The 'simulated-crowd' verdicts are",
        "                SIMULATED, not people; rate for real through the crowd links.",
    ]
    return DemoPipeline(pipeline=pipeline, lines=lines)
