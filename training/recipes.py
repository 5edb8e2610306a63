"""The fine-tuning recipe as a plain, validated value: LIMA's Section 3, made explicit.

A recipe is stored as JSON (on a `Recipe` row, and frozen onto every `TrainingRun`), and
read back through `RecipeSettings.from_dict`, which names the field of any bad value."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from evalhub.importing import InputError, RowProblem

DEFAULT_EOT_TOKEN = "<|eot|>"  # noqa: S105 - a vocabulary token, not a secret


@dataclass(frozen=True)
class RecipeSettings:
    """Everything that decides what a run computes. Units: learning rates per step,
    lengths in tokens, batch sizes in examples (not sequences of a micro-batch)."""

    epochs: int = 15
    batch_size: int = 32  # examples per optimizer step, reached by gradient accumulation
    lr_start: float = 1e-5  # the learning rate of the first optimizer step
    lr_end: float = 1e-6  # ... and of the last one; linear in between, no warm-up
    adam_beta1: float = 0.9
    adam_beta2: float = 0.95
    weight_decay: float = 0.1
    max_length: int = 2048  # longer texts are trimmed to this many tokens
    residual_dropout_top: float = 0.3  # p at the top layer; p_i = top * i / (L - 1)
    eot_token: str = DEFAULT_EOT_TOKEN  # added to the vocabulary if the tokenizer lacks it
    assistant_only_loss: bool = True  # user turns are context, not targets
    # Tokens one forward pass may hold. Examples are packed padding-free (position ids
    # restart per example, so no example attends to another) up to this budget.
    micro_batch_tokens: int = 4096
    save_epochs: list[int] = field(default_factory=lambda: list(range(5, 11)))
    max_grad_norm: float | None = None  # the paper clips nothing
    seed: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecipeSettings:
        """Build from JSON, filling defaults. Raises InputError naming each bad field."""
        names = {f.name for f in dataclasses.fields(cls)}
        problems = [
            RowProblem(0, "is not a recipe setting", key) for key in data if key not in names
        ]
        if problems:
            raise InputError(problems, source="recipe")
        settings = cls(**data)
        settings.validate()
        return settings

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> RecipeSettings:
        new = dataclasses.replace(self, **changes)
        new.validate()
        return new

    def validate(self) -> None:
        problems: list[RowProblem] = []

        def check(ok: bool, name: str, message: str) -> None:
            if not ok:
                problems.append(RowProblem(0, message, name))

        def positive_int(name: str) -> None:
            value = getattr(self, name)
            check(
                isinstance(value, int) and not isinstance(value, bool) and value > 0,
                name,
                "must be a positive integer",
            )

        for name in ("epochs", "batch_size", "max_length", "micro_batch_tokens"):
            positive_int(name)
        for name in ("lr_start", "lr_end", "weight_decay"):
            value = getattr(self, name)
            check(isinstance(value, int | float) and value >= 0, name, "must be a number >= 0")
        for name in ("adam_beta1", "adam_beta2", "residual_dropout_top"):
            value = getattr(self, name)
            check(isinstance(value, int | float) and 0 <= value < 1, name, "must be in [0, 1)")
        check(isinstance(self.eot_token, str) and bool(self.eot_token.strip()), "eot_token",
              "must be a non-empty string")  # fmt: skip
        check(isinstance(self.assistant_only_loss, bool), "assistant_only_loss", "must be a bool")
        epochs_ok = isinstance(self.save_epochs, list) and all(
            isinstance(e, int) and not isinstance(e, bool) for e in self.save_epochs
        )
        check(epochs_ok, "save_epochs", "must be a list of epoch numbers")
        if epochs_ok and isinstance(self.epochs, int):
            bad = [e for e in self.save_epochs if not 1 <= e <= self.epochs]
            check(not bad, "save_epochs", f"epochs {bad} are outside 1..{self.epochs}")
        if (
            isinstance(self.micro_batch_tokens, int)
            and isinstance(self.max_length, int)
            and self.micro_batch_tokens < self.max_length
        ):
            problems.append(RowProblem(0, "must be at least max_length", "micro_batch_tokens"))
        check(
            self.max_grad_norm is None
            or (isinstance(self.max_grad_norm, int | float) and self.max_grad_norm > 0),
            "max_grad_norm",
            "must be empty or a number > 0",
        )
        if problems:
            raise InputError(problems, source="recipe")


# The paper's two settings: batch 32 and top dropout 0.3 for 65B, 64 and 0.2 for 7B.
LIMA_65B = RecipeSettings(batch_size=32, residual_dropout_top=0.3)
LIMA_7B = RecipeSettings(batch_size=64, residual_dropout_top=0.2)
PRESETS: dict[str, tuple[str, RecipeSettings]] = {
    "lima-65b": ("LIMA 65B", LIMA_65B),
    "lima-7b": ("LIMA 7B", LIMA_7B),
}
