"""`manage.py lima_pipeline`: the whole LIMA method in one command.

    manage.py lima_pipeline train.jsonl --base-model /weights/llama-7b \\
        --test test.jsonl --baseline alpaca-65b --baseline-path base=/weights/llama-7b \\
        --judge-url http://gpu-host:8001/v1 --judge-model qwen-72b --follow

fine-tunes with the recipe, picks the checkpoint on a dev set, generates the test outputs,
launches the pairwise and Fail/Pass/Excellent studies, runs the LLM judge and prints where
to look. Everything runs on the Celery workers; `--follow` shows progress, and Ctrl-C
stops only the following (the pipeline goes on). `--resume SLUG` goes on with a pipeline
that failed or was cancelled, from the step it stopped at."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.text import slugify

from evalhub.importing import InputError, read_rows
from evalhub.outputs.models import ModelEntry
from evalhub.outputs.selectors import team_models
from evalhub.outputs.services import model_register
from evalhub.pipeline.models import Pipeline
from evalhub.pipeline.selectors import pipeline_current_jobs, pipeline_links
from evalhub.pipeline.services import (
    STEP_TITLES,
    PipelineJudges,
    dev_set_from_test,
    pipeline_judges_from,
    pipeline_judges_register,
    pipeline_resume,
    pipeline_start,
)
from evalhub.pipeline.steps import STEPS
from evalhub.prompts.models import PromptSet
from evalhub.prompts.selectors import team_prompt_sets
from evalhub.prompts.services import prompts_import
from evalhub.studies.models import Judge
from evalhub.studies.selectors import team_judges
from evalhub.teams.commands import add_team_argument, team_named
from evalhub.teams.models import Team

DEFAULT_BASE_URL = os.environ.get("EVALHUB_BASE_URL", "http://127.0.0.1:8000")


def _setting(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise CommandError(f"--set {text!r}: write key=value (value as JSON, e.g. epochs=2)")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


class Command(BaseCommand):
    help = __doc__.split("\n\n")[0]

    def add_arguments(self, parser: CommandParser) -> None:
        add_team_argument(parser)
        parser.add_argument("training_set", nargs="?", help="LIMA-format JSONL to fine-tune on")
        parser.add_argument("--slug", help="the pipeline's name (default: from the file)")
        parser.add_argument("--base-model", help="path (or hub name) of the weights to tune")
        parser.add_argument("--recipe", default="lima-7b", help="recipe slug (default lima-7b)")
        parser.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a recipe setting, e.g. --set epochs=2",
        )
        parser.add_argument("--test", help="test prompts: a JSONL/JSON file or a prompt set slug")
        parser.add_argument("--dev", help="dev prompts (file or slug) to pick the checkpoint")
        parser.add_argument(
            "--dev-size",
            type=int,
            default=10,
            help="without --dev: use this many test prompts as the dev set",
        )
        parser.add_argument(
            "--baseline",
            action="append",
            default=[],
            metavar="SLUG",
            help="a registered model: local (generated) or with outputs",
        )
        parser.add_argument(
            "--baseline-path",
            action="append",
            default=[],
            metavar="SLUG=PATH",
            help="register weights at PATH as a local baseline and generate",
        )
        parser.add_argument("--judge", help="an existing judge slug")
        parser.add_argument("--judge-url", help="OpenAI-compatible base URL (…/v1)")
        parser.add_argument("--judge-model", help="model name at --judge-url")
        parser.add_argument(
            "--judge-api-key-env",
            default="",
            help="environment variable holding the judge's API key",
        )
        parser.add_argument(
            "--judge-verdict-mode",
            default=Judge.VerdictMode.GUIDED_CHOICE,
            choices=Judge.VerdictMode.values,
        )
        parser.add_argument("--budget-usd", help="refuse judge runs estimated above this")
        parser.add_argument("--max-tokens", type=int, help="cap generated tokens per answer")
        parser.add_argument(
            "--simulate-crowd",
            action="store_true",
            help="DEMO ONLY: add simulated (fake) crowd verdicts",
        )
        parser.add_argument("--resume", metavar="SLUG", help="go on with this pipeline")
        parser.add_argument("--follow", action="store_true", help="show progress until done")
        parser.add_argument("--base-url", default=DEFAULT_BASE_URL,
                            help="where the site answers, for the printed links")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["resume"]:
                team = team_named(options["team"])
                pipeline = Pipeline.objects.filter(team=team, slug=options["resume"]).first()
                if pipeline is None:
                    raise CommandError(f"no pipeline {options['resume']!r}")
                pipeline = pipeline_resume(pipeline=pipeline)
            else:
                pipeline = self._start(options)
        except InputError as exc:
            raise CommandError(str(exc)) from None
        base = options["base_url"].rstrip("/")
        self.stdout.write(f"pipeline {pipeline.slug}: progress at {base}/jobs/{pipeline.job_id}/")
        if not options["follow"]:
            return
        pipeline = follow(pipeline, self.stdout)
        if pipeline.status != Pipeline.Status.SUCCEEDED:
            raise CommandError(f"pipeline {pipeline.slug} {pipeline.status}: {pipeline.error}")
        self.stdout.write(self.style.SUCCESS(f"pipeline {pipeline.slug} is done. Look at:"))
        for label, path in pipeline_links(pipeline).items():
            self.stdout.write(f"  {label:32} {base}{path}")

    @transaction.atomic
    def _start(self, options: dict[str, Any]) -> Pipeline:
        from training.models import Recipe
        from training.services import dataset_import, recipe_presets_ensure

        path = options["training_set"]
        if not path or not options["base_model"] or not options["test"]:
            raise CommandError("give a training set, --base-model and --test (or --resume)")
        slug = options["slug"] or slugify(Path(path).stem)[:60]
        team = team_named(options["team"])
        recipe_presets_ensure()
        recipe = Recipe.objects.filter(slug=options["recipe"]).first()
        if recipe is None:
            raise CommandError(f"--recipe: no recipe {options['recipe']!r}")
        team = team_named(options["team"])
        dataset = dataset_import(
            team=team, slug=f"{slug}-train", name=f"{slug}: training set", rows=read_rows(path),
            source_file=str(path),
        )  # fmt: skip
        test = _prompt_set(team, options["test"], f"{slug}-test")
        dev = (
            _prompt_set(team, options["dev"], f"{slug}-dev")
            if options["dev"]
            else dev_set_from_test(
                test_prompt_set=test, slug=f"{slug}-dev", size=options["dev_size"]
            )
        )
        overrides = dict(_setting(s) for s in options["set"])
        generation = {"max_tokens": options["max_tokens"]} if options["max_tokens"] else {}
        return pipeline_start(
            team=team,
            slug=slug,
            dataset=dataset,
            base_model=options["base_model"],
            test_prompt_set=test,
            dev_prompt_set=dev,
            baselines=_baselines(team, options),
            judges=_judges(team, options, slug),
            recipe=recipe,
            recipe_overrides=overrides,
            generation_overrides=generation,
            judge_budget_usd=options["budget_usd"],
            simulate_crowd=options["simulate_crowd"],
        )


def _prompt_set(team: Team, value: str, slug: str) -> PromptSet:
    """The team's prompt set by slug, else a file imported as `slug`."""
    found = team_prompt_sets(team=team).filter(slug=value).first()
    if found is not None:
        return found
    if not Path(value).is_file():
        raise CommandError(f"{value!r} is neither a prompt set slug nor a file")
    rows = read_rows(value)
    return prompts_import(team=team, slug=slug, rows=rows, name=f"{slug} ({value})").prompt_set


def _baselines(team: Team, options: dict[str, Any]) -> list[ModelEntry]:
    models = []
    for slug in options["baseline"]:
        model = team_models(team=team).filter(slug=slug).first()
        if model is None:
            raise CommandError(
                f"--baseline: no model {slug!r} (register it or use --baseline-path)"
            )
        models.append(model)
    for text in options["baseline_path"]:
        slug, sep, path = text.partition("=")
        if not sep or not slug or not path:
            raise CommandError(f"--baseline-path {text!r}: write SLUG=PATH")
        models.append(model_register(team=team, slug=slug, name=f"{slug} ({path})",
                                     kind=ModelEntry.Kind.LOCAL, model_path=path))  # fmt: skip
    return models


def _judges(team: Team, options: dict[str, Any], slug: str) -> PipelineJudges:
    if options["judge"]:
        judge = team_judges(team=team).filter(slug=options["judge"]).first()
        if judge is None:
            raise CommandError(f"--judge: no judge {options['judge']!r}")
        return pipeline_judges_from(judge=judge)
    if not options["judge_url"] or not options["judge_model"]:
        raise CommandError("give --judge SLUG, or --judge-url and --judge-model")
    return pipeline_judges_register(
        team=team,
        slug=slugify(f"{slug}-judge")[:80],
        model=options["judge_model"],
        base_url=options["judge_url"],
        api_key_env=options["judge_api_key_env"],
        verdict_mode=options["judge_verdict_mode"],
    )


def follow(pipeline: Pipeline, out: Any, poll_s: float = 2.0) -> Pipeline:
    """Show the pipeline's steps and the current step's jobs with tqdm until it ends."""
    from tqdm import tqdm

    steps = tqdm(total=len(STEPS), desc="pipeline", unit="step", position=0, file=out)
    job_bar = tqdm(total=0, desc="", position=1, leave=False, file=out)
    try:
        while True:
            pipeline.refresh_from_db()
            done = list(STEPS).index(pipeline.step) if pipeline.step in STEPS else len(STEPS)
            steps.n = done
            steps.set_description(f"{STEP_TITLES[pipeline.step]}")
            jobs = pipeline_current_jobs(pipeline)
            if jobs:
                job = jobs[0]
                job_bar.total = max(job.progress_total, 1)
                job_bar.n = job.progress_done
                job_bar.set_description(f"  job {job.pk} ({job.kind}) {job.progress_note[:50]}")
            steps.refresh()
            job_bar.refresh()
            if pipeline.is_finished:
                return pipeline
            time.sleep(poll_s)
    finally:
        job_bar.close()
        steps.close()
