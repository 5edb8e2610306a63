"""Queue a training run (the `training` worker runs it), or run it here with --here."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evalhub.importing import InputError
from evalhub.jobs.services import job_claim
from evalhub.teams.commands import add_team_argument, team_named
from training.models import Recipe, TrainingDataset
from training.selectors import team_datasets
from training.services import recipe_presets_ensure, training_run_create


class Command(BaseCommand):
    help = "Fine-tune a model on a training dataset with a recipe (LIMA 65B by default)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_team_argument(parser)
        parser.add_argument("--dataset", required=True)
        parser.add_argument("--base-model", required=True)
        parser.add_argument("--recipe", default="lima-65b")
        parser.add_argument("--set", default="{}", help='JSON overrides, e.g. {"epochs": 2}')
        parser.add_argument("--slug", default="")
        parser.add_argument("--name", default="")
        parser.add_argument("--output-dir", default=None)
        parser.add_argument("--here", action="store_true", help="train in this process")

    def handle(self, *args: Any, **options: Any) -> None:
        recipe_presets_ensure()
        try:
            team = team_named(options["team"])
            dataset = team_datasets(team=team).get(slug=options["dataset"])
            recipe = Recipe.objects.get(slug=options["recipe"])
            run = training_run_create(
                team=team,
                dataset=dataset,
                base_model=options["base_model"],
                recipe=recipe,
                overrides=json.loads(options["set"]),
                slug=options["slug"],
                name=options["name"],
                output_dir=options["output_dir"],
            )
        except (TrainingDataset.DoesNotExist, Recipe.DoesNotExist) as exc:
            raise CommandError(str(exc)) from None
        except (InputError, json.JSONDecodeError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"run {run.slug}: job {run.job_id}, output {run.output_dir}")
        if options["here"] and job_claim(job_id=run.job_id):
            # The worker may also receive the message; whoever claims first runs it.
            self._run_here(run.job_id)

    def _run_here(self, job_id: int) -> None:
        from evalhub.jobs.models import Job
        from evalhub.jobs.services import JobCancelled, job_fail, job_mark_cancelled, job_succeed
        from training.services import training_job_run

        job = Job.objects.get(pk=job_id)
        try:
            result = training_job_run(job)
        except JobCancelled:
            job_mark_cancelled(job_id=job_id)
            raise CommandError("cancelled") from None
        except Exception as exc:
            job_fail(job_id=job_id, error=f"{type(exc).__name__}: {exc}")
            raise
        job_succeed(job_id=job_id, result=result)
        self.stdout.write(json.dumps(result))
