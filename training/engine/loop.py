"""The training loop: LIMA's recipe on one process or many (`accelerate launch`, FSDP).

The loss of an optimizer step is the mean over every trained token of its `batch_size`
examples, whatever the micro-batching: each micro-batch adds its summed token loss divided
by the step's total trained tokens (x the number of processes, which DDP/FSDP average over).
Every `save_epochs` epoch leaves a plain Hugging Face checkpoint; every epoch leaves a
resume state, so a re-dispatched job continues from the last finished epoch."""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch.nn import functional as F

from training.engine.batching import (
    block_causal_mask,
    epoch_order,
    pack,
    plan_step,
    step_batches,
    steps_per_epoch,
)
from training.engine.conversations import (
    EncodedConversation,
    encode_conversation,
    lima_chat_template,
    tokenizer_add_eot,
)
from training.engine.dropout import residual_dropout_attach
from training.engine.schedule import learning_rate_at
from training.recipes import RecipeSettings

RESUME_DIR = "resume"
# LIMA's decoding (Section 4.1), written into each checkpoint's generation_config.json as
# the defaults a caller gets when it sets none.
LIMA_DECODING = {"do_sample": True, "temperature": 0.7, "top_p": 0.9, "repetition_penalty": 1.2}


@dataclass(frozen=True)
class StepMetrics:
    step: int  # optimizer steps done, 1-based
    total_steps: int
    epoch: float  # epochs done, fractional
    loss: float  # mean loss per trained token of this step
    lr: float  # the learning rate this step used
    tokens: int  # tokens this step processed, all processes
    tokens_per_s: float
    elapsed_s: float  # since this process started training
    eta_s: float
    grad_norm: float | None


class TrainObserver(Protocol):
    """Told about progress on the main process. Raising from a method stops every process."""

    def step_done(self, metrics: StepMetrics) -> None: ...

    def checkpoint_saved(self, *, epoch: int, step: int, path: Path) -> None: ...


class TrainingStopped(Exception):
    """Another process's observer asked to stop."""


@dataclass
class TrainResult:
    steps: int
    total_steps: int
    eot_id: int
    eot_added: bool
    examples: int  # trained on
    dropped: int  # no trained token left after trimming
    trimmed: int  # longer than max_length
    checkpoints: list[tuple[int, Path]] = field(default_factory=list)
    metrics: list[StepMetrics] = field(default_factory=list)


def _accelerator() -> Any:
    from accelerate import Accelerator

    bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return Accelerator(mixed_precision="bf16" if bf16 else "no")


def load_for_training(base_model: str, settings: RecipeSettings) -> tuple[Any, Any, int, bool]:
    """(model, tokenizer, eot id, whether the EOT was added) with embeddings resized."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_model)
    eot_id, added = tokenizer_add_eot(tokenizer, settings.eot_token)
    model = AutoModelForCausalLM.from_pretrained(base_model, dtype=torch.float32)
    if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
        # New rows start at the mean of the old ones (transformers' mean_resizing).
        model.resize_token_embeddings(len(tokenizer))
    model.config.use_cache = False
    return model, tokenizer, eot_id, added


def encode_all(
    conversations: Sequence[Sequence[str]], tokenizer: Any, eot_id: int, settings: RecipeSettings
) -> tuple[list[EncodedConversation], int, int]:
    """(examples with at least one trained token, how many were dropped, how many trimmed)."""
    encoded = [
        encode_conversation(
            c,
            tokenizer,
            eot_id=eot_id,
            max_length=settings.max_length,
            assistant_only=settings.assistant_only_loss,
        )
        for c in conversations
    ]
    kept = [e for e in encoded if any(label != -100 for label in e.labels[1:])]
    return kept, len(encoded) - len(kept), sum(e.trimmed for e in encoded)


def save_checkpoint(
    accelerator: Any, model: Any, tokenizer: Any, path: Path, *, eot_id: int, dtype: Any
) -> None:
    """A plain HF checkpoint vLLM loads: safetensors in the base model's dtype, the
    tokenizer with the EOT and the LIMA chat template, and EOT as a stop token."""
    accelerator.wait_for_everyone()
    state_dict = accelerator.get_state_dict(model)  # gathered to the main process under FSDP
    if accelerator.is_main_process:
        unwrapped = accelerator.unwrap_model(model)
        state_dict = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state_dict.items()}
        unwrapped.config.use_cache = True
        unwrapped.save_pretrained(path, state_dict=state_dict, safe_serialization=True)
        unwrapped.config.use_cache = False
        tokenizer.save_pretrained(path)
        generation = unwrapped.generation_config
        old_eos = generation.eos_token_id
        old_eos = old_eos if isinstance(old_eos, list) else [] if old_eos is None else [old_eos]
        generation.eos_token_id = [eot_id, *[t for t in old_eos if t != eot_id]]
        for key, value in LIMA_DECODING.items():
            setattr(generation, key, value)
        generation.save_pretrained(path)
    accelerator.wait_for_everyone()


def _forward_loss(
    model: Any, batch: dict[str, torch.Tensor], device: Any, *, eager: bool
) -> torch.Tensor:
    """Summed next-token loss over the trained positions of one packed row. Only those
    positions go through the LM head (logits_to_keep), which saves its cost on user turns."""
    targets = batch["targets"][0].to(device)
    keep = (targets != -100).nonzero().squeeze(-1)
    out = model(
        input_ids=batch["input_ids"].to(device),
        position_ids=batch["position_ids"].to(device),
        attention_mask=block_causal_mask(batch["lengths"], additive=eager, device=device),
        logits_to_keep=keep,
        use_cache=False,
    )
    return F.cross_entropy(out.logits[0].float(), targets[keep], reduction="sum")


def train(
    *,
    base_model: str,
    conversations: Sequence[Sequence[str]],
    settings: RecipeSettings,
    out_dir: Path,
    observer: TrainObserver | None = None,
    accelerator: Any = None,
) -> TrainResult:
    """Fine-tune `base_model` on `conversations` (alternating utterances, user first) and
    save checkpoints under `out_dir/epoch-NN`. Resumes from `out_dir/resume` if present."""
    from accelerate.utils import set_seed

    accelerator = accelerator or _accelerator()
    set_seed(settings.seed)
    out_dir = Path(out_dir)
    model, tokenizer, eot_id, eot_added = load_for_training(base_model, settings)
    tokenizer.chat_template = lima_chat_template(settings.eot_token)
    save_dtype = getattr(model.config, "dtype", None) or torch.float32
    if isinstance(save_dtype, str):
        save_dtype = getattr(torch, save_dtype)
    examples, dropped, trimmed = encode_all(conversations, tokenizer, eot_id, settings)
    if not examples:
        raise ValueError("no example has an assistant token to train on")
    residual_dropout_attach(model, settings.residual_dropout_top)
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=settings.lr_start,
        betas=(settings.adam_beta1, settings.adam_beta2),
        weight_decay=settings.weight_decay,
    )
    # The eager attention adds its mask to the scores; SDPA takes a boolean one.
    eager = getattr(model.config, "_attn_implementation", "sdpa") == "eager"
    model, optimizer = accelerator.prepare(model, optimizer)
    model.train()

    per_epoch = steps_per_epoch(len(examples), settings.batch_size)
    total_steps = settings.epochs * per_epoch
    result = TrainResult(0, total_steps, eot_id, eot_added, len(examples), dropped, trimmed)
    start_epoch, step = 1, 0
    resume = out_dir / RESUME_DIR
    if (resume / "progress.json").exists():
        progress = json.loads((resume / "progress.json").read_text())
        accelerator.load_state(str(resume))
        start_epoch, step = progress["epoch"] + 1, progress["step"]
    started = time.monotonic()
    steps_here = 0
    world, rank = accelerator.num_processes, accelerator.process_index
    filler = {  # a one-token pass for a process with no examples left in this step
        "input_ids": torch.tensor([[eot_id]]),
        "position_ids": torch.tensor([[0]]),
        "targets": torch.tensor([[eot_id]]),
        "lengths": torch.tensor([1]),
    }

    for epoch in range(start_epoch, settings.epochs + 1):
        batches = step_batches(
            epoch_order(len(examples), seed=settings.seed, epoch=epoch), settings.batch_size
        )
        for index_in_epoch, batch in enumerate(batches):
            step_started = time.monotonic()
            lr = learning_rate_at(
                step, total_steps=total_steps, lr_start=settings.lr_start, lr_end=settings.lr_end
            )
            for group in optimizer.param_groups:
                group["lr"] = lr
            plan, passes = plan_step(
                batch,
                examples,
                token_budget=settings.micro_batch_tokens,
                process_index=rank,
                num_processes=world,
            )
            loss_sum = torch.zeros((), device=accelerator.device)
            for m in range(passes):
                if m < len(plan.micro_batches):
                    packed = pack([examples[i] for i in plan.micro_batches[m]])
                    summed = _forward_loss(model, packed, accelerator.device, eager=eager)
                    loss_sum += summed.detach()
                    accelerator.backward(summed * (world / plan.trained_tokens))
                else:
                    accelerator.backward(
                        _forward_loss(model, filler, accelerator.device, eager=eager) * 0.0
                    )
            grad_norm = None
            if settings.max_grad_norm:
                grad_norm = float(
                    accelerator.clip_grad_norm_(model.parameters(), settings.max_grad_norm)
                )
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            steps_here += 1
            total_loss = accelerator.reduce(loss_sum, reduction="sum").item()
            now = time.monotonic()
            elapsed = now - started
            metrics = StepMetrics(
                step=step,
                total_steps=total_steps,
                epoch=epoch - 1 + (index_in_epoch + 1) / len(batches),
                loss=total_loss / plan.trained_tokens,
                lr=lr,
                tokens=plan.tokens,
                tokens_per_s=plan.tokens / max(now - step_started, 1e-9),
                elapsed_s=elapsed,
                eta_s=elapsed / steps_here * (total_steps - step),
                grad_norm=grad_norm,
            )
            result.metrics.append(metrics)
            _report(accelerator, lambda m=metrics: observer and observer.step_done(m))

        result.steps = step
        if epoch in settings.save_epochs:
            path = out_dir / f"epoch-{epoch:02d}"
            save_checkpoint(accelerator, model, tokenizer, path, eot_id=eot_id, dtype=save_dtype)
            result.checkpoints.append((epoch, path))
            _report(
                accelerator,
                lambda e=epoch, s=step, p=path: (
                    observer and observer.checkpoint_saved(epoch=e, step=s, path=p)
                ),
            )
        if epoch < settings.epochs:
            accelerator.save_state(str(resume))
            if accelerator.is_main_process:
                (resume / "progress.json").write_text(json.dumps({"epoch": epoch, "step": step}))
            accelerator.wait_for_everyone()
    if accelerator.is_main_process and resume.exists():
        shutil.rmtree(resume)  # the run is over; its optimizer state is no longer needed
    result.steps = step
    if not math.isfinite(result.metrics[-1].loss if result.metrics else 0.0):
        raise FloatingPointError("the loss is not finite")
    return result


def _report(accelerator: Any, call: Any) -> None:
    """Run an observer call on the main process; if it raises, stop every process."""
    error: BaseException | None = None
    if accelerator.is_main_process:
        try:
            call()
        except Exception as exc:  # re-raised below, after the other processes heard of it
            error = exc
    if accelerator.num_processes > 1:
        flag = torch.tensor([1.0 if error else 0.0], device=accelerator.device)
        if accelerator.reduce(flag, reduction="sum").item() > 0 and error is None:
            raise TrainingStopped("the main process stopped the run")
    if error is not None:
        raise error
