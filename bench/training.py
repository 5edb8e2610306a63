"""Training throughput: our trainer against a plain TRL SFTTrainer with padding.

Both train the same randomly initialised small Llama (built here with the tiny model's
tokenizer; nothing is downloaded) on the same LIMA-style conversations of varied length,
with the same recipe: AdamW (0.9, 0.95), weight decay 0.1, the batch counted in examples
through gradient accumulation, loss on assistant tokens, LIMA's residual dropout hooks,
the same epochs. Ours packs examples padding-free with a block-diagonal mask and sends only
trained positions through the LM head; TRL pads each micro-batch to its longest example.

Throughput is real (non-pad) tokens trained per second of the training loop (model loading
and tokenisation excluded for both). The last line is `ratio: X` = ours / TRL.

    .venv/bin/python bench/training.py [--examples 64] [--epochs 2] [--hidden 256]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = (
    "less is more for alignment a strong pretrained model learns almost all of its knowledge "
    "during pretraining and only a small set of careful examples is needed to teach it the "
    "style and format of answering a user we fine tune on one thousand prompts"
).split()


def conversations(n: int, seed: int = 0) -> list[list[str]]:
    """LIMA-like rows: short prompts, answers from a few words to a few hundred, some
    multi-turn; the spread of lengths is what makes padding cost something."""
    rng = random.Random(seed)

    def text(k: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(k))

    rows = []
    for i in range(n):
        row = [text(rng.randint(5, 40)), text(int(rng.paretovariate(1.2) * 30))]
        if i % 10 == 0:
            row += [text(rng.randint(5, 20)), text(rng.randint(10, 120))]
        rows.append(row)
    return rows


def build_model(out: Path, hidden: int, layers: int) -> Path:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from generation.tiny_model import build_tiny_model

    tiny = build_tiny_model(out / "tiny")
    tokenizer = AutoTokenizer.from_pretrained(tiny)
    config = LlamaConfig.from_pretrained(tiny)
    config.hidden_size, config.intermediate_size = hidden, 4 * hidden
    config.num_hidden_layers = layers
    config.num_attention_heads = config.num_key_value_heads = hidden // 64
    config.head_dim = 64
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    model.save_pretrained(out / "model")
    tokenizer.save_pretrained(out / "model")
    return out / "model"


def ours(model_dir: Path, rows: list[list[str]], settings, out: Path) -> tuple[float, int]:
    from accelerate.state import AcceleratorState

    from training.engine.loop import train

    AcceleratorState._reset_state(True)  # the TRL run left its own state behind
    result = train(base_model=str(model_dir), conversations=rows, settings=settings, out_dir=out)
    tokens = sum(m.tokens for m in result.metrics)
    return tokens / result.metrics[-1].elapsed_s, tokens


def trl_padded(model_dir: Path, rows: list[list[str]], settings, out: Path, micro: int):
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from training.engine.dropout import residual_dropout_attach
    from training.engine.loop import encode_all, load_for_training

    model, tokenizer, eot_id, _ = load_for_training(str(model_dir), settings)
    examples, _, _ = encode_all(rows, tokenizer, eot_id, settings)
    data = Dataset.from_list(
        [
            {"input_ids": e.input_ids, "completion_mask": [int(x != -100) for x in e.labels]}
            for e in examples
        ]
    )
    residual_dropout_attach(model, settings.residual_dropout_top)
    config = SFTConfig(
        output_dir=str(out),
        num_train_epochs=settings.epochs,
        per_device_train_batch_size=micro,
        gradient_accumulation_steps=max(1, settings.batch_size // micro),
        learning_rate=settings.lr_start,
        lr_scheduler_type="linear",
        warmup_steps=0,
        adam_beta1=settings.adam_beta1,
        adam_beta2=settings.adam_beta2,
        weight_decay=settings.weight_decay,
        max_grad_norm=0.0,
        max_length=settings.max_length,
        completion_only_loss=True,
        padding_free=False,
        save_strategy="no",
        report_to=[],
        logging_steps=10_000,
        dataloader_num_workers=0,
        use_cpu=not torch.cuda.is_available(),
        # The same precision as ours: bf16 autocast where the GPU has it, else fp32.
        bf16=torch.cuda.is_available() and torch.cuda.is_bf16_supported(),
        seed=settings.seed,
    )

    class Clock(TrainerCallback):
        started = 0.0

        def on_train_begin(self, *args, **kwargs):
            Clock.started = time.perf_counter()

    trainer = SFTTrainer(model=model, args=config, train_dataset=data,
                         processing_class=tokenizer, callbacks=[Clock()])  # fmt: skip
    trainer.train()
    elapsed = time.perf_counter() - Clock.started
    tokens = settings.epochs * sum(len(e.input_ids) for e in examples)
    return tokens / elapsed, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--micro", type=int, default=8, help="TRL sequences per forward")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument(
        "--smoke", action="store_true", help="8 examples, 1 epoch, a 1-layer model (seconds)"
    )
    args = parser.parse_args()
    if args.smoke:  # the size tests/bench/test_smoke.py runs
        vars(args).update(examples=8, epochs=1, batch=4, micro=2, hidden=64, layers=1)

    import torch

    from training.recipes import LIMA_65B

    settings = LIMA_65B.replace(epochs=args.epochs, batch_size=args.batch, save_epochs=[])
    rows = conversations(args.examples)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        model_dir = build_model(tmp_path, args.hidden, args.layers)
        print(f"model: Llama hidden {args.hidden}, {args.layers} layers; {len(rows)} examples, "
              f"{args.epochs} epochs, batch {args.batch} examples; device "
              f"{'cuda' if torch.cuda.is_available() else 'cpu'}")  # fmt: skip
        trl_rate, trl_tokens = trl_padded(model_dir, rows, settings, tmp_path / "trl", args.micro)
        our_rate, our_tokens = ours(model_dir, rows, settings, tmp_path / "ours")
    assert our_tokens == trl_tokens, (our_tokens, trl_tokens)
    print(f"trl SFTTrainer (padding, micro-batch {args.micro}): {trl_rate:,.0f} tokens/s")
    print(f"evalhub trainer (padding-free packing):            {our_rate:,.0f} tokens/s")
    print(f"ratio: {our_rate / trl_rate:.2f}")


if __name__ == "__main__":
    main()
