"""The demo's live studies: a live conversation study and a live battle, both against the
demo's own `vllm serve` of the tiny model (served as "tiny" and "tiny-b"). Its answers are
gibberish: the weights are random, built locally so nothing is downloaded."""

from __future__ import annotations

from django.db import transaction

from evalhub.demo.services import demo_team
from evalhub.live.creation import live_study_create
from evalhub.outputs.models import ModelEntry
from evalhub.studies.models import Study

LIVE_CHAT = "lima-live-chat"
LIVE_ARENA = "lima-live-arena"


@transaction.atomic
def demo_live_load(*, vllm_base_url: str) -> list[str]:
    """Make (once) two API models at the demo's `vllm serve` and the two live studies;
    returns their slugs."""
    team = demo_team()
    models = []
    served_as = [("demo-live-a", "tiny", "Tiny model A (random weights)"),
                 ("demo-live-b", "tiny-b", "Tiny model B (random weights)")]  # fmt: skip
    for slug, served, name in served_as:
        model, _ = ModelEntry.objects.update_or_create(
            team=team,
            slug=slug,
            defaults={"name": name, "kind": ModelEntry.Kind.API, "base_url": vllm_base_url,
                      "model_path": served, "generation_config": {"max_tokens": 96}},
        )  # fmt: skip
        models.append(model)
    if not Study.objects.filter(team=team, slug=LIVE_CHAT).exists():
        live_study_create(
            team=team, slug=LIVE_CHAT, name="Live dialogue (LIMA Section 6)",
            mode="conversation",
            models=models, max_turns=3, session_quota=2, completion_code="DEMO-LIVE",
        )  # fmt: skip
    if not Study.objects.filter(team=team, slug=LIVE_ARENA).exists():
        live_study_create(
            team=team, slug=LIVE_ARENA, name="Live battle (Arena)", mode="battle",
            models=models,
            max_turns=3, session_quota=3, target_per_pair=20, reveal_models=True,
            completion_code="DEMO-ARENA",
        )  # fmt: skip
    return [LIVE_CHAT, LIVE_ARENA]
