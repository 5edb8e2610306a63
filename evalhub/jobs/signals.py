"""Signals the jobs app sends, so that apps built on jobs (the pipeline) can react to a
job's end without the jobs app importing them."""

from django.dispatch import Signal

# Sent by the worker after a job reaches a final state (or is re-queued by a failed claim);
# kwargs: job_id (int). Receivers must not raise: the job's outcome is already written.
job_finished = Signal()
