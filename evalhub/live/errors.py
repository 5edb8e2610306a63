"""The live study's refusal, shared by its writes and its views."""

from __future__ import annotations


class LiveInputError(ValueError):
    """A request the live study refuses; the message is safe to show the rater.
    `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
