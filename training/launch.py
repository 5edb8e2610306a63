"""Entry point of a multi-GPU run: `accelerate launch --config_file training/fsdp.yaml
-m training.launch --run-id N --job-id M`. Every rank trains its shard; the main rank
writes metrics and checkpoints to the database. Exit status 75 means the job was cancelled."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run-id", type=int, required=True)
    parser.add_argument("--job-id", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalhub.settings")
    import django

    django.setup()
    from evalhub.jobs.services import JobCancelled
    from training.engine.loop import TrainingStopped
    from training.models import TrainingRun
    from training.services.runs import CANCELLED_EXIT_CODE, train_in_process

    run = TrainingRun.objects.select_related("dataset").get(pk=args.run_id)
    try:
        train_in_process(run=run, job_id=args.job_id)
    except (JobCancelled, TrainingStopped):
        return CANCELLED_EXIT_CODE
    return 0


if __name__ == "__main__":
    sys.exit(main())
