"""How examples become optimizer steps and forward passes.

An optimizer step takes `batch_size` examples (the last step of an epoch takes what is
left). Its examples are split across processes, then packed padding-free into micro-batches
of at most `micro_batch_tokens` tokens: one row, position ids restarting at 0 for every
example, and an explicit block-diagonal causal mask, so no example attends to another and
no compute is spent on padding. (transformers only infers such a mask from position ids
on some paths; the test of packing showed leaks without it, so we build it ourselves.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from training.engine.conversations import IGNORE_INDEX, EncodedConversation


def epoch_order(n_examples: int, *, seed: int, epoch: int) -> list[int]:
    """A shuffled order of the examples, the same on every process and every resume."""
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return torch.randperm(n_examples, generator=generator).tolist()


def step_batches(order: Sequence[int], batch_size: int) -> list[list[int]]:
    """Consecutive groups of `batch_size` examples; the last may be smaller."""
    return [list(order[i : i + batch_size]) for i in range(0, len(order), batch_size)]


def steps_per_epoch(n_examples: int, batch_size: int) -> int:
    return -(-n_examples // batch_size)


def micro_batches(
    indices: Sequence[int], lengths: Sequence[int], *, token_budget: int
) -> list[list[int]]:
    """Pack examples into groups of at most `token_budget` tokens, first-fit decreasing
    (fewer forward passes). An example longer than the budget gets a group of its own."""
    groups: list[list[int]] = []
    room: list[int] = []
    for index in sorted(indices, key=lambda i: -lengths[i]):
        n = lengths[index]
        for g, free in enumerate(room):
            if n <= free:
                groups[g].append(index)
                room[g] -= n
                break
        else:
            groups.append([index])
            room.append(token_budget - n)
    return groups


@dataclass(frozen=True)
class StepPlan:
    """One optimizer step for one process: its micro-batches (lists of example indices,
    possibly none when this process got no examples) and the step's totals over all
    processes, which the loss is normalised by."""

    micro_batches: list[list[int]]
    trained_tokens: int  # over all processes
    tokens: int  # over all processes


def plan_step(
    batch: Sequence[int],
    examples: Sequence[EncodedConversation],
    *,
    token_budget: int,
    process_index: int = 0,
    num_processes: int = 1,
) -> tuple[StepPlan, int]:
    """This process's part of one optimizer step, and how many micro-batches the busiest
    process has (every process must run as many forward passes, for FSDP's collectives)."""
    lengths = [len(e.input_ids) for e in examples]
    per_process = [
        micro_batches(batch[p::num_processes], lengths, token_budget=token_budget)
        for p in range(num_processes)
    ]
    plan = StepPlan(
        micro_batches=per_process[process_index],
        trained_tokens=sum(_shifted_trained(examples[i]) for i in batch),
        tokens=sum(lengths[i] for i in batch),
    )
    return plan, max(len(groups) for groups in per_process)


def _shifted_trained(example: EncodedConversation) -> int:
    # Position t predicts token t+1, so the first token is never a target.
    return sum(1 for label in example.labels[1:] if label != IGNORE_INDEX)


def pack(examples: Sequence[EncodedConversation]) -> dict[str, torch.Tensor]:
    """One padding-free row: input_ids, position_ids (restarting per example) and
    `targets`, the next-token labels shifted within each example, so the last token of
    one example never learns to predict the first token of the next."""
    input_ids: list[int] = []
    positions: list[int] = []
    targets: list[int] = []
    for example in examples:
        input_ids.extend(example.input_ids)
        positions.extend(range(len(example.input_ids)))
        targets.extend([*example.labels[1:], IGNORE_INDEX])
    return {
        "input_ids": torch.tensor([input_ids], dtype=torch.long),
        "position_ids": torch.tensor([positions], dtype=torch.long),
        "targets": torch.tensor([targets], dtype=torch.long),
        "lengths": torch.tensor([len(e.input_ids) for e in examples], dtype=torch.long),
    }


def block_causal_mask(
    lengths: torch.Tensor, *, additive: bool = False, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """A (1, 1, T, T) mask where token t sees token s iff both are in the same example and
    s <= t. Boolean (True = attend) for SDPA; additive (0 / dtype min, float32) for the
    eager attention, which adds the mask to its scores."""
    segment = torch.repeat_interleave(torch.arange(len(lengths), device=device), lengths.to(device))
    n = segment.numel()
    causal = torch.ones(n, n, dtype=torch.bool, device=device).tril()
    allowed = causal & (segment[:, None] == segment[None, :])
    if additive:
        mask = torch.zeros(n, n, device=device)
        return mask.masked_fill(~allowed, torch.finfo(torch.float32).min)[None, None]
    return allowed[None, None]
