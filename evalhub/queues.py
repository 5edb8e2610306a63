"""The Celery queues. Generation and training workers run with --pool solo, one per GPU."""

from enum import StrEnum


class CeleryQueue(StrEnum):
    DEFAULT = "default"
    JUDGE = "judge"
    GENERATION = "generation"
    TRAINING = "training"
