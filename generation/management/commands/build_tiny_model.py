from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from generation.tiny_model import build_tiny_model


class Command(BaseCommand):
    help = (
        "Build the tiny random Llama checkpoint (tokenizer, chat template, safetensors) used "
        "by tests and the demo. It writes gibberish; it exists to exercise the real engines."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out_dir", type=Path)
        parser.add_argument("--layers", type=int, default=2)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, out_dir: Path, layers: int, seed: int, **options) -> None:
        path = build_tiny_model(out_dir, n_layers=layers, seed=seed)
        self.stdout.write(f"tiny model written to {path}")
